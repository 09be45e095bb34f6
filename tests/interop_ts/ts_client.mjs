// The official TypeScript SDK's client against mcpbind's server (tests/interop_ts/server.py).
//
//   node ts_client.mjs '{"sdk": "v1"|"v2", "era": "2025-11-25"|"2026-07-28",
//                        "url": "http://127.0.0.1:PORT/mcp"} | {..., "command": [...argv]}
//                        | {..., "ws": "ws://127.0.0.1:PORT/mcp"}'
//
// v1 is @modelcontextprotocol/sdk (1.x), v2 is @modelcontextprotocol/client (2.x). With "command"
// the server is spawned over stdio, with "url" it is reached over Streamable HTTP, with "ws" over
// WebSocket (SEP-1288) through 1.x's WebSocketClientTransport, the only one the SDK ships, which
// the 2.x client takes as it takes any transport. Each feature is
// one check, run in turn on one connection; the result is one JSON line on stdout:
//   {"connect_ms": ..., "protocol": ..., "era": ..., "checks": {"name": {"ok": bool, "detail": str}}}
// The driver itself exits 0 whenever it could print that line; pytest judges the checks.

const spec = JSON.parse(process.argv[2]);
const MODERN = spec.era === '2026-07-28';
const CHECK_TIMEOUT_MS = 15_000;
const LOG_LEVEL_META = 'io.modelcontextprotocol/logLevel';

const sdk = spec.sdk === 'v1' ? await loadV1() : await loadV2();
const { WebSocketClientTransport } = await import('@modelcontextprotocol/sdk/client/websocket.js');

async function loadV1() {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const t = await import('@modelcontextprotocol/sdk/types.js');
  // 1.x registers handlers by schema, 2.x by method name.
  const requests = {
    'sampling/createMessage': t.CreateMessageRequestSchema,
    'elicitation/create': t.ElicitRequestSchema,
    'roots/list': t.ListRootsRequestSchema,
  };
  const notifications = {
    'notifications/message': t.LoggingMessageNotificationSchema,
    'notifications/resources/updated': t.ResourceUpdatedNotificationSchema,
    'notifications/tools/list_changed': t.ToolListChangedNotificationSchema,
    'notifications/prompts/list_changed': t.PromptListChangedNotificationSchema,
  };
  return {
    Client,
    StdioClientTransport,
    StreamableHTTPClientTransport,
    onRequest: (client, method, fn) => client.setRequestHandler(requests[method], fn),
    onNotification: (client, method, fn) => client.setNotificationHandler(notifications[method], fn),
  };
}

async function loadV2() {
  const m = await import('@modelcontextprotocol/client');
  const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
  return {
    Client: m.Client,
    StdioClientTransport,
    StreamableHTTPClientTransport: m.StreamableHTTPClientTransport,
    onRequest: (client, method, fn) => client.setRequestHandler(method, fn),
    onNotification: (client, method, fn) => client.setNotificationHandler(method, fn),
  };
}

// -- notifications, collected per method, with waiters --------------------------------------------------

const seen = {};
const errors = [];
const waiters = [];

function record(method, params) {
  (seen[method] ??= []).push(params);
  for (const w of [...waiters]) {
    if (w.method === method && w.test(params)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(params);
    }
  }
}

function nextNotification(method, test = () => true, ms = 5_000) {
  return new Promise((resolve, reject) => {
    const w = { method, test, resolve };
    waiters.push(w);
    setTimeout(() => {
      const i = waiters.indexOf(w);
      if (i >= 0) {
        waiters.splice(i, 1);
        reject(new Error(`no ${method} within ${ms} ms`));
      }
    }, ms);
  });
}

// -- HTTP exchanges, as the transport made them (for the report when something fails) -------------------

const http = [];

async function recordingFetch(url, init = {}) {
  const headers = new Headers(init.headers);
  const entry = {
    method: init.method ?? 'GET',
    mcpMethod: headers.get('mcp-method'),
    body: typeof init.body === 'string' ? init.body.slice(0, 200) : null,
  };
  http.push(entry);
  const response = await fetch(url, init);
  entry.status = response.status;
  entry.contentType = response.headers.get('content-type');
  return response;
}

// -- the client -------------------------------------------------------------------------------------------

function makeClient(negotiation) {
  const options = {
    capabilities: {
      sampling: {},
      elicitation: { form: {}, url: {} },
      roots: { listChanged: true },
    },
  };
  if (negotiation !== undefined) options.versionNegotiation = { mode: negotiation };
  const client = new sdk.Client({ name: `mcpbind-interop-ts-${spec.sdk}`, version: '0.0.0' }, options);
  // What the SDK reports out of band: refused POSTs, undecodable messages, failed handlers.
  client.onerror = (error) => errors.push(String(error?.message ?? error));
  sdk.onRequest(client, 'sampling/createMessage', async (request) => {
    const params = request.params ?? request;
    const prompt = params.messages?.[0]?.content?.text ?? '?';
    return { role: 'assistant', content: { type: 'text', text: `echo: ${prompt}` }, model: 'interop-model' };
  });
  sdk.onRequest(client, 'elicitation/create', async (request) => {
    const params = request.params ?? request;
    if (params.mode === 'url') return { action: 'accept' };
    return { action: 'accept', content: { username: 'ts-user', email: 'ts@example.invalid', name: 'ts' } };
  });
  sdk.onRequest(client, 'roots/list', async () => ({
    roots: [
      { uri: 'file:///tmp/interop-a', name: 'a' },
      { uri: 'file:///tmp/interop-b', name: 'b' },
    ],
  }));
  for (const method of [
    'notifications/message',
    'notifications/resources/updated',
    'notifications/tools/list_changed',
    'notifications/prompts/list_changed',
  ]) {
    sdk.onNotification(client, method, async (n) => record(method, n.params ?? n));
  }
  return client;
}

function makeTransport() {
  if (spec.ws) return new WebSocketClientTransport(new URL(spec.ws));
  if (spec.command) {
    const [command, ...args] = spec.command;
    return new sdk.StdioClientTransport({ command, args, stderr: 'inherit' });
  }
  return new sdk.StreamableHTTPClientTransport(new URL(spec.url), { fetch: recordingFetch });
}

// Every message as the transport carried it, in order, before the SDK dispatches it.
const wire = [];

function tap(transport) {
  const send = transport.send.bind(transport);
  transport.send = (message, ...rest) => {
    wire.push({ out: true, message });
    return send(message, ...rest);
  };
  const onmessage = transport.onmessage;
  transport.onmessage = (message, ...rest) => {
    wire.push({ out: false, message });
    return onmessage(message, ...rest);
  };
}

const negotiation = spec.sdk === 'v2' ? (MODERN ? { pin: spec.era } : 'legacy') : undefined;
const client = makeClient(negotiation);
const transport = makeTransport();
const started = performance.now();
await client.connect(transport);
const connectMs = performance.now() - started;
tap(transport);

const checks = {};

// A check fails when its function throws, and also when the SDK reports an error out of band while it
// runs (a refused POST, an unexpected HTTP answer), except the errors `excused` matches.
async function check(name, fn, excused = () => false) {
  let timer;
  const from = errors.length;
  try {
    const detail = await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    // Let whatever the last exchange left behind (a notification POST's answer) arrive.
    await new Promise((r) => setTimeout(r, 20));
    const reported = errors.slice(from).filter((e) => !excused(e));
    expect(reported.length === 0, `the SDK reported: ${JSON.stringify(reported)}`);
    checks[name] = { ok: true, detail: String(detail ?? '') };
  } catch (error) {
    checks[name] = { ok: false, detail: String(error?.stack ?? error) };
  } finally {
    clearTimeout(timer);
    errors.splice(0, errors.length);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

function textOf(result) {
  expect(!result.isError, `tool error: ${JSON.stringify(result)}`);
  return result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

// On 2026-07-28 logging is asked for per request (_meta), on 2025-11-25 with logging/setLevel.
const logMeta = MODERN ? { _meta: { [LOG_LEVEL_META]: 'info' } } : {};

// A v2 call takes (params, options); a v1 call takes (params, resultSchema, options).
async function call(name, args = {}, options = {}, extra = {}) {
  const params = { name, arguments: args, ...extra };
  return spec.sdk === 'v2' ? client.callTool(params, options) : client.callTool(params, undefined, options);
}

// -- the checks ------------------------------------------------------------------------------------------

await check('version', async () => {
  const version = client.getServerVersion();
  const protocol = client.getNegotiatedProtocolVersion?.() ?? client.transport?.protocolVersion;
  expect(version?.name === 'mcp-conformance-test-server', `server info ${JSON.stringify(version)}`);
  if (spec.sdk === 'v2') expect(protocol === spec.era, `negotiated ${protocol}, wanted ${spec.era}`);
  return protocol;
});

if (!MODERN) await check('ping', async () => {
  await client.ping();
});

await check('pagination', async () => {
  const names = [];
  const from = wire.length;
  if (spec.sdk === 'v2') {
    // 2.x walks every page itself when no cursor is given.
    names.push(...(await client.listTools()).tools.map((t) => t.name));
  } else {
    let cursor;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      names.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
      expect(wire.length - from < 100, 'more than 50 pages');
    } while (cursor !== undefined);
  }
  const pages = wire.slice(from).filter((w) => w.out && w.message.method === 'tools/list').length;
  expect(pages > 1, `one page of ${names.length} tools: the server pages by 4`);
  expect(new Set(names).size === names.length, `a tool listed twice: ${names}`);
  for (const wanted of ['test_simple_text', 'test_slow', 'test_url_elicitation']) {
    expect(names.includes(wanted), `${wanted} missing from ${names}`);
  }
  return `${names.length} tools in ${pages} pages`;
});

await check('tool', async () => {
  const text = textOf(await call('test_simple_text'));
  expect(text.includes('simple text'), text);
  return text;
});

await check('tool_error', async () => {
  const result = await call('test_error_handling');
  expect(result.isError === true, JSON.stringify(result));
});

await check('progress', async () => {
  const steps = [];
  const from = wire.length;
  const text = textOf(await call('test_tool_with_progress', {}, { onprogress: (p) => steps.push(p.progress) }));
  // What the server sent before its answer...
  const sent = [];
  for (const { out, message } of wire.slice(from)) {
    if (out) continue;
    if (message.method === 'notifications/progress') sent.push(message.params.progress);
    if ('result' in message || 'error' in message) break;
  }
  expect(JSON.stringify(sent) === '[0,50,100]', `progress on the wire before the answer: ${JSON.stringify(sent)}`);
  // ...and what reached onprogress. The SDK dispatches notifications a microtask late but settles a
  // response at once, dropping its progress handler: a last notification read in the same chunk as
  // the answer never reaches the callback (an SDK race, not the server's doing).
  const got = JSON.stringify(steps);
  expect(got === '[0,50,100]' || got === '[0,50]', `onprogress saw ${got}`);
  return `wire ${JSON.stringify(sent)}, onprogress ${got}`;
}, (error) => error.includes('progress notification for an unknown token') && error.includes('"progress":100'));

await check('logging', async () => {
  if (!MODERN) await client.setLoggingLevel('info');
  const before = (seen['notifications/message'] ?? []).length;
  textOf(await call('test_tool_with_logging', {}, {}, logMeta));
  // The notifications travel before the answer on the same stream; give stdio a moment anyway.
  for (let i = 0; i < 20 && (seen['notifications/message'] ?? []).length - before < 3; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const got = (seen['notifications/message'] ?? []).slice(before).map((p) => p.data);
  expect(got.length === 3, `log messages ${JSON.stringify(got)}`);
  return JSON.stringify(got);
});

await check('sampling', async () => {
  const text = textOf(await call('test_sampling', { prompt: 'hello from TS' }));
  expect(text === 'LLM response: echo: hello from TS', text);
  return text;
});

await check('elicitation_form', async () => {
  const text = textOf(await call('test_elicitation', { message: 'Who are you?' }));
  expect(text.includes('action=accept') && text.includes('ts-user'), text);
  return text;
});

await check('elicitation_url', async () => {
  const text = textOf(await call('test_url_elicitation'));
  expect(text === 'URL elicitation: action=accept', text);
  return text;
});

await check('roots', async () => {
  const text = textOf(await call('test_input_required_result_list_roots'));
  expect(text === 'Found 2 root(s)', text);
  // 2025-11-25 has notifications/roots/list_changed (2026-07-28 has no such notification).
  if (!MODERN) await client.sendRootsListChanged();
  return text;
});

await check('resources', async () => {
  const listed = await client.listResources();
  const uris = listed.resources.map((r) => r.uri);
  expect(uris.includes('test://static-text'), `resources ${uris}`);
  const read = await client.readResource({ uri: 'test://template/42/data' });
  expect(read.contents[0].text.includes('"id":"42"'), JSON.stringify(read));
  return `${uris.length} resources`;
});

await check('prompts', async () => {
  const got = await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a', arg2: 'b' } });
  const text = got.messages[0].content.text;
  expect(text === "Prompt with arguments: arg1='a', arg2='b'", text);
  return text;
});

await check('completion', async () => {
  const got = await client.complete({
    ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
    argument: { name: 'arg1', value: 'pa' },
  });
  expect(JSON.stringify(got.completion.values) === '["paris","park","party"]', JSON.stringify(got));
  return got.completion.values.join(',');
});

let subscription;
await check('subscriptions', async () => {
  const uri = 'test://watched-resource';
  if (MODERN) {
    subscription = await client.listen({ resourceSubscriptions: [uri], toolsListChanged: true });
    expect(
      JSON.stringify(subscription.honoredFilter.resourceSubscriptions) === JSON.stringify([uri]),
      `honored ${JSON.stringify(subscription.honoredFilter)}`,
    );
  } else {
    await client.subscribeResource({ uri });
  }
  const updated = nextNotification('notifications/resources/updated', (p) => p.uri === uri);
  textOf(await call('test_update_watched_resource'));
  await updated;
  const read = await client.readResource({ uri });
  expect(read.contents[0].text.includes('updated'), JSON.stringify(read));
  if (!MODERN) await client.unsubscribeResource({ uri });
  return read.contents[0].text;
});

await check('list_changed', async () => {
  if (MODERN && subscription === undefined) {
    subscription = await client.listen({ toolsListChanged: true });
  }
  const changed = nextNotification('notifications/tools/list_changed');
  textOf(await call('test_trigger_tool_change'));
  await changed;
  // 2026-07-28: closing a subscription sends notifications/cancelled for its listen request.
  if (subscription !== undefined) {
    await subscription.close();
    expect((await subscription.closed) === 'local', 'the subscription did not close');
  }
});

await check('cancellation', async () => {
  const before = textOf(await call('test_cancelled_count'));
  const controller = new AbortController();
  const pending = call('test_slow', {}, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 300));
  controller.abort('interop test cancels');
  let outcome = 'answered';
  try {
    await pending;
  } catch (error) {
    outcome = `rejected: ${error?.message ?? error}`;
  }
  expect(outcome.startsWith('rejected'), 'the aborted call was answered');
  const wanted = `cancelled=${Number(before.split('=')[1]) + 1}`;
  let now = '';
  for (let i = 0; i < 40; i++) {
    now = textOf(await call('test_cancelled_count'));
    if (now === wanted) return `${outcome}; server: ${now}`;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the server did not see the cancel: ${now}, wanted ${wanted}`);
});

// 2.x's 'auto' mode probes with server/discover and must settle on the newest era both sides speak.
if (spec.sdk === 'v2' && MODERN) {
  await check('auto_negotiation', async () => {
    const other = makeClient('auto');
    const t0 = performance.now();
    await other.connect(makeTransport());
    const ms = performance.now() - t0;
    try {
      const era = other.getNegotiatedProtocolVersion();
      expect(era === spec.era, `auto negotiated ${era}`);
      textOf(await other.callTool({ name: 'test_simple_text', arguments: {} }));
      return `${era} in ${ms.toFixed(0)} ms`;
    } finally {
      await other.close();
    }
  });
}

// Last: nothing went wrong out of band after the checks above (errors during one fail that one).
await check('no_errors', async () => {
  await new Promise((r) => setTimeout(r, 100));
});

const protocol = client.getNegotiatedProtocolVersion?.() ?? null;
await client.close();
// Every message each side sent on the main connection, for pytest to validate against the schema.
const frames = wire.map(({ out, message }) => [out ? 'client' : 'server', message]);
process.stdout.write(JSON.stringify({ connect_ms: connectMs, protocol, checks, http, frames }) + '\n');
process.exit(0);
