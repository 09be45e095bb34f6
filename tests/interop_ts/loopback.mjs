// Preloaded (`node --import ./loopback.mjs`) into servers that listen on every interface by default
// (server-everything's express apps call `app.listen(PORT)`): a listen without a host binds to
// 127.0.0.1 instead, so that the tests stay on loopback.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
