// The official TypeScript SDK's client against mcpbind's protected server (mcpbind.auth.server), over
// Streamable HTTP, authorized three ways:
//
//   node ts_auth_client.mjs '{"sdk": "v1"|"v2", "era": "2025-11-25"|"2026-07-28", "url": "...",
//                             "auth": "bearer", "token": "..."}'            // requestInit headers
//                          | {..., "auth": "client_credentials", "clientId", "clientSecret", "issuer",
//                             "scope"?}                                    // the SDK's OAuth provider
//                          | {..., "auth": "authorization_code"}             // DCR, PKCE, a redirect
//                          | {..., "auth": "none"}                           // refused
//
// For "authorization_code" the SDK's own OAuthClientProvider interface is implemented here: the
// "user" is a fetch of the authorization URL whose redirect (the authorization server approves at
// once) carries the code, handed to the transport's finishAuth before connecting again, as an
// application does after its callback. The result is one JSON line on stdout:
//   {"protocol": ..., "whoami": {...} | null, "read": "..." | null, "error": "..." | null,
//    "redirects": n, "requests": [[method, status], ...]}
// The driver exits 0 whenever it could print that line; pytest judges it.

const spec = JSON.parse(process.argv[2]);
const MODERN = spec.era === '2026-07-28';
const TIMEOUT_MS = 20_000;

const sdk = spec.sdk === 'v1' ? await loadV1() : await loadV2();

async function loadV1() {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const { ClientCredentialsProvider } = await import('@modelcontextprotocol/sdk/client/auth-extensions.js');
  const { UnauthorizedError } = await import('@modelcontextprotocol/sdk/client/auth.js');
  return { Client, StreamableHTTPClientTransport, ClientCredentialsProvider, UnauthorizedError };
}

async function loadV2() {
  const m = await import('@modelcontextprotocol/client');
  return {
    Client: m.Client,
    StreamableHTTPClientTransport: m.StreamableHTTPClientTransport,
    ClientCredentialsProvider: m.ClientCredentialsProvider,
    UnauthorizedError: m.UnauthorizedError,
  };
}

// Every HTTP exchange the transport made (method and status), to show the 401 and the retry.
const requests = [];
async function recordingFetch(url, init) {
  const response = await fetch(url, init);
  requests.push([init?.method ?? 'GET', response.status]);
  return response;
}

// An authorization-code client the way an application writes one, with a programmatic "browser".
class RedirectingProvider {
  constructor() {
    this.redirects = 0;
    this.pendingUrl = undefined;
  }
  get redirectUrl() {
    return 'http://127.0.0.1:9/callback'; // never opened: the code is read from the redirect itself
  }
  get clientMetadata() {
    return {
      client_name: 'ts-interop',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this._client;
  }
  saveClientInformation(info) {
    this._client = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(tokens) {
    this._tokens = tokens;
  }
  redirectToAuthorization(url) {
    this.redirects += 1;
    this.pendingUrl = new URL(url);
  }
  saveCodeVerifier(verifier) {
    this._verifier = verifier;
  }
  codeVerifier() {
    return this._verifier;
  }
  // The "user": follow the authorization URL to the redirect that carries the code.
  async approve() {
    const answer = await fetch(this.pendingUrl, { redirect: 'manual' });
    const location = answer.headers.get('location');
    if (answer.status !== 302 || !location) throw new Error(`authorization answered ${answer.status}`);
    return new URL(location);
  }
}

function makeClient() {
  const options = {};
  if (spec.sdk === 'v2') options.versionNegotiation = { mode: MODERN ? { pin: spec.era } : 'legacy' };
  return new sdk.Client({ name: 'ts-auth-interop', version: '1.0.0' }, options);
}

function makeTransport(provider) {
  const options = { fetch: recordingFetch };
  if (spec.auth === 'bearer') options.requestInit = { headers: { Authorization: `Bearer ${spec.token}` } };
  if (provider !== undefined) options.authProvider = provider;
  return new sdk.StreamableHTTPClientTransport(new URL(spec.url), options);
}

function makeProvider() {
  if (spec.auth === 'client_credentials') {
    return new sdk.ClientCredentialsProvider({
      clientId: spec.clientId,
      clientSecret: spec.clientSecret,
      scope: spec.scope,
      expectedIssuer: spec.issuer, // the credentials go to this authorization server only
    });
  }
  if (spec.auth === 'authorization_code') return new RedirectingProvider();
  return undefined;
}

async function connect(provider) {
  let client = makeClient();
  let transport = makeTransport(provider);
  try {
    await client.connect(transport);
  } catch (error) {
    if (!(provider instanceof RedirectingProvider) || !(error instanceof sdk.UnauthorizedError)) throw error;
    // The application's callback: the code (and, on 2.x, the whole redirect, for its `iss` check).
    const callback = await provider.approve();
    const code = callback.searchParams.get('code');
    await transport.finishAuth(spec.sdk === 'v2' ? callback.searchParams : code);
    await transport.close();
    client = makeClient();
    transport = makeTransport(provider);
    await client.connect(transport);
  }
  return client;
}

async function tour() {
  const provider = makeProvider();
  const client = await connect(provider);
  const protocol = client.getNegotiatedProtocolVersion?.() ?? client.transport?.protocolVersion ?? null;
  const who = await client.callTool({ name: 'whoami', arguments: {} });
  if (who.isError) throw new Error(`whoami: ${JSON.stringify(who.content)}`);
  const whoami = who.structuredContent ?? JSON.parse(who.content[0].text);
  let read = null;
  if (spec.read !== false) {
    const result = await client.callTool({ name: 'read_file', arguments: { name: 'a' } });
    read = result.isError ? `error: ${JSON.stringify(result.content)}` : result.content[0].text;
  }
  await client.close();
  return { protocol, whoami, read, redirects: provider?.redirects ?? 0 };
}

let result;
try {
  result = await Promise.race([
    tour(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS)),
  ]);
  result.error = null;
} catch (error) {
  result = { protocol: null, whoami: null, read: null, redirects: 0, error: String(error?.stack ?? error) };
}
result.requests = requests;
console.log(JSON.stringify(result));
process.exit(0);
