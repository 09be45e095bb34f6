// What a TypeScript user does beyond ts_client.mjs's feature tour, against mcpbind's server
// (tests/interop_ts/server.py) over Streamable HTTP, stdio or WebSocket, each scenario on its own connection:
//
//   node ts_scenarios.mjs '{"sdk": "v1"|"v2", "era": "2025-11-25"|"2026-07-28", "url": "http://..."}'
//   node ts_scenarios.mjs '{"sdk": ..., "era": ..., "command": [...argv]}'    (stdio: a server per scenario)
//   node ts_scenarios.mjs '{"sdk": ..., "era": ..., "ws": "ws://..."}'        (1.x's WebSocketClientTransport)
//
// Prints one JSON line: {"checks": {"name": {"ok": bool, "detail": str}}}; pytest judges the checks.

const spec = JSON.parse(process.argv[2]);
const MODERN = spec.era === '2026-07-28';
const CHECK_TIMEOUT_MS = 20_000;

const sdk = spec.sdk === 'v1' ? await loadV1() : await loadV2();

async function loadV1() {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const t = await import('@modelcontextprotocol/sdk/types.js');
  const { AjvJsonSchemaValidator } = await import('@modelcontextprotocol/sdk/validation/ajv');
  const requests = { 'sampling/createMessage': t.CreateMessageRequestSchema, 'elicitation/create': t.ElicitRequestSchema };
  return {
    Client,
    StreamableHTTPClientTransport,
    StdioClientTransport,
    onRequest: (client, method, fn) => client.setRequestHandler(requests[method], fn),
    onNotification: (client, method, fn) =>
      client.setNotificationHandler({ 'notifications/message': t.LoggingMessageNotificationSchema }[method], fn),
    request: (client, request, options) => client.request(request, t.CallToolResultSchema, options),
    // The validator the SDK compiles each outputSchema with (its default: ajv, draft-07).
    validator: new AjvJsonSchemaValidator(),
    types: t,
  };
}

async function loadV2() {
  const m = await import('@modelcontextprotocol/client');
  const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
  const { AjvJsonSchemaValidator } = await import('@modelcontextprotocol/client/validators/ajv');
  return {
    Client: m.Client,
    StreamableHTTPClientTransport: m.StreamableHTTPClientTransport,
    StdioClientTransport,
    onRequest: (client, method, fn) => client.setRequestHandler(method, fn),
    onNotification: (client, method, fn) => client.setNotificationHandler(method, fn),
    request: (client, request, options) => client.request(request, options),
    validator: new AjvJsonSchemaValidator(),
  };
}

const errors = [];
const http = [];

// Network drops, armed by a scenario: the first response whose request `match`es is cut (an error, as
// a dropped connection reads) once its body has carried `marker`.
const drops = [];

async function recordingFetch(url, init = {}) {
  const headers = new Headers(init.headers);
  const entry = {
    method: init.method ?? 'GET',
    session: headers.get('mcp-session-id'),
    lastEventId: headers.get('last-event-id'),
    body: typeof init.body === 'string' ? init.body.slice(0, 160) : null,
  };
  http.push(entry);
  const response = await fetch(url, init);
  entry.status = response.status;
  const drop = drops.find((d) => d.match(entry));
  if (drop === undefined || response.body === null) return response;
  drops.splice(drops.indexOf(drop), 1);
  return new Response(cutAfter(response.body, drop.marker, () => (entry.cut = true)), {
    status: response.status,
    headers: response.headers,
  });
}

function cutAfter(body, marker, onCut) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  let cut = false;
  return new ReadableStream({
    async pull(controller) {
      if (cut) {
        // The chunk with the marker went through on the last pull (error() would discard it).
        await reader.cancel('dropped by the test');
        onCut();
        controller.error(new TypeError('network connection lost (dropped by the test)'));
        return;
      }
      const { value, done } = await reader.read();
      if (done) return controller.close();
      controller.enqueue(value);
      seen += decoder.decode(value, { stream: true });
      cut = seen.includes(marker);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

function makeClient() {
  const options = { capabilities: { roots: { listChanged: true }, sampling: {}, elicitation: { form: {} } } };
  if (spec.sdk === 'v2') options.versionNegotiation = { mode: MODERN ? { pin: spec.era } : 'legacy' };
  const client = new sdk.Client({ name: `mcpbind-scenarios-${spec.sdk}`, version: '0.0.0' }, options);
  // What the SDK reports out of band; not once the client is being closed (1.x reports the abort of
  // its own GET stream then).
  client.onerror = (error) => {
    if (!client.closing) errors.push(String(error?.message ?? error));
  };
  return client;
}

async function close(client) {
  client.closing = true;
  await client.close().catch(() => {});
}

// `handlers`: the client's answers to the server's requests, by method.
async function connect(handlers = {}) {
  const client = makeClient();
  for (const [method, fn] of Object.entries(handlers)) sdk.onRequest(client, method, fn);
  let transport;
  if (spec.ws) {
    const { WebSocketClientTransport } = await import('@modelcontextprotocol/sdk/client/websocket.js');
    transport = new WebSocketClientTransport(new URL(spec.ws));
  } else if (spec.command) {
    const [command, ...args] = spec.command;
    transport = new sdk.StdioClientTransport({ command, args, stderr: 'inherit' });
  } else {
    transport = new sdk.StreamableHTTPClientTransport(new URL(spec.url), { fetch: recordingFetch });
  }
  await client.connect(transport);
  // Every message the transport carried, each way, in order.
  client.wire = [];
  const send = transport.send.bind(transport);
  transport.send = (message, ...rest) => {
    client.wire.push({ out: true, message });
    return send(message, ...rest);
  };
  const onmessage = transport.onmessage;
  transport.onmessage = (message, ...rest) => {
    client.wire.push({ out: false, message });
    return onmessage(message, ...rest);
  };
  return { client, transport };
}

const checks = {};

// A check fails when its function throws, and when the SDK reports an error out of band while it runs,
// except the errors `excused` matches.
async function check(name, fn, excused = () => false) {
  let timer;
  const from = errors.length;
  const opened = [];
  try {
    const detail = await Promise.race([
      fn(opened),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    const reported = errors.slice(from).filter((e) => !excused(e));
    expect(reported.length === 0, `the SDK reported: ${JSON.stringify(reported)}`);
    checks[name] = { ok: true, detail: String(detail ?? '') };
  } catch (error) {
    checks[name] = { ok: false, detail: `${error?.stack ?? error}\n${JSON.stringify(http.slice(-8))}` };
  } finally {
    clearTimeout(timer);
    for (const client of opened) await close(client);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function call(client, name, args = {}, options = {}) {
  const params = { name, arguments: args };
  return spec.sdk === 'v2' ? client.callTool(params, options) : client.callTool(params, undefined, options);
}

// 1.x returns one page per call; 2.x walks every page itself when no cursor is given.
async function listAllTools(client) {
  const tools = [];
  let cursor;
  for (let i = 0; i < 50; i++) {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
    if (cursor === undefined) return tools;
  }
  throw new Error('more than 50 pages of tools');
}

function textOf(result) {
  expect(!result.isError, `tool error: ${JSON.stringify(result)}`);
  return result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

// -- structured results: the SDK compiles each outputSchema (ajv) at tools/list and validates every
// structuredContent against it on callTool ---------------------------------------------------------

await check('structured_output', async (opened) => {
  const { client } = await connect();
  opened.push(client);
  const tools = await listAllTools(client);
  const got = [];
  for (const [name, args] of [
    ['test_structured_weather', { city: 'Oslo' }],
    ['test_structured_points', { count: 3 }],
    ['test_structured_number', { a: 2, b: 3 }],
  ]) {
    expect(tools.some((t) => t.name === name && t.outputSchema), `${name} has no outputSchema`);
    const result = await call(client, name, args);
    expect(!result.isError && result.structuredContent, `${name}: ${JSON.stringify(result)}`);
    got.push(JSON.stringify(result.structuredContent));
  }
  expect(got[1] === '{"result":[{"x":0,"y":0,"label":"origin"},{"x":1,"y":2,"label":"other"},{"x":2,"y":4,"label":"other"}]}', got[1]);
  expect(got[2] === '{"result":5}', got[2]);
  return got.join(' ');
});

// Every shape of result a user's tool returns (a dataclass, a TypedDict, an optional, a mapping, nested
// Structs, a recursive Struct, an enum, a tuple, a Literal, a datetime, nothing): each outputSchema
// compiles with the SDK's own validator and holds the structured result. (1.x compiles the validators
// of the last tools/list page alone, so the check compiles them itself, with the SDK's validator;
// 2.x compiles every page's, and callTool validates too.)
await check('structured_shapes', async (opened) => {
  const { client } = await connect();
  opened.push(client);
  const tools = (await listAllTools(client)).filter((t) => t.name.startsWith('test_shape_'));
  expect(tools.length === 12, `shape tools: ${tools.map((t) => t.name)}`);
  const args = { test_shape_none: { label: 'x' }, test_shape_optional: { present: true } };
  const got = [];
  for (const tool of tools) {
    const result = await call(client, tool.name, args[tool.name] ?? {});
    expect(!result.isError, `${tool.name}: ${JSON.stringify(result)}`);
    if (tool.name === 'test_shape_none') {
      expect(tool.outputSchema === undefined && result.structuredContent === undefined, JSON.stringify({ tool, result }));
      continue;
    }
    let verdict;
    try {
      verdict = sdk.validator.getValidator(tool.outputSchema)(result.structuredContent);
    } catch (error) {
      throw new Error(`${tool.name}: the SDK cannot compile ${JSON.stringify(tool.outputSchema)}: ${error}`);
    }
    expect(verdict.valid, `${tool.name}: ${verdict.errorMessage}\n${JSON.stringify(tool.outputSchema)}\n${JSON.stringify(result.structuredContent)}`);
    got.push(tool.name.slice('test_shape_'.length));
  }
  const tree = await call(client, 'test_shape_tree');
  expect(tree.structuredContent.children[0].children[0].name === 'a1', JSON.stringify(tree.structuredContent));
  const tuple = await call(client, 'test_shape_tuple');
  expect(JSON.stringify(tuple.structuredContent) === '{"result":[1,"two",true]}', JSON.stringify(tuple.structuredContent));
  return got.join(' ');
});

// A title, icons, annotations and _meta on a tool, a resource, a resource template and a prompt reach
// the SDK's user as the server declared them (its zod schemas keep them).
await check('metadata', async (opened) => {
  const { client } = await connect();
  opened.push(client);
  const icon = { src: 'data:image/png;base64,iVBORw0KGgo=', mimeType: 'image/png', sizes: ['16x16'] };
  const meta = { 'example.com/owner': 'interop' };
  const same = (a, b, what) => expect(JSON.stringify(a) === JSON.stringify(b), `${what}: ${JSON.stringify(a)}`);
  const tool = (await listAllTools(client)).find((t) => t.name === 'test_shape_decorated');
  same([tool.title, tool.icons, tool._meta], ['Decorated tool', [icon], meta], 'tool');
  same(tool.annotations, { title: 'Decorated (annotation)', readOnlyHint: true }, 'tool annotations');
  const all = async (list, key) => {
    const items = [];
    let cursor;
    for (let i = 0; i < 50; i++) {
      const page = await list(cursor === undefined ? {} : { cursor });
      items.push(...page[key]);
      cursor = page.nextCursor;
      if (cursor === undefined) return items;
    }
    throw new Error(`more than 50 pages of ${key}`);
  };
  const resource = (await all((p) => client.listResources(p), 'resources')).find((r) => r.uri === 'test://decorated');
  same([resource.title, resource.icons, resource._meta, resource.size], ['Decorated resource', [icon], meta, 9], 'resource');
  same(resource.annotations, { audience: ['user'], priority: 0.5 }, 'resource annotations');
  const templates = await all((p) => client.listResourceTemplates(p), 'resourceTemplates');
  const template = templates.find((r) => r.uriTemplate === 'test://decorated/{part}');
  same([template.title, template.icons, template._meta], ['Decorated template', [icon], meta], 'template');
  const prompt = (await all((p) => client.listPrompts(p), 'prompts')).find((p) => p.name === 'test_decorated_prompt');
  same([prompt.title, prompt.icons, prompt._meta], ['Decorated prompt', [icon], meta], 'prompt');
  same(prompt.arguments, [{ name: 'topic', required: true }], 'prompt arguments');
  const read = await client.readResource({ uri: 'test://decorated/x' });
  same(read.contents.map((c) => c.text), ['decorated x'], 'template read');
  return 'tool, resource, template, prompt';
});

// -- what the SDK's user receives for each kind of failure ------------------------------------------

await check('error_mapping', async (opened) => {
  const { client } = await connect();
  opened.push(client);
  const rejection = async (promise) => {
    try {
      return { answered: await promise };
    } catch (error) {
      return { code: error?.code, name: error?.constructor?.name, message: String(error?.message ?? error) };
    }
  };
  // The error the server sent for the last request, as it was on the wire.
  const wireError = () => client.wire.filter((w) => !w.out && 'error' in w.message).at(-1)?.message.error;
  const got = {};
  // Protocol errors: rejected with the server's code.
  got.unknownTool = await rejection(call(client, 'no_such_tool'));
  expect(got.unknownTool.code === -32602 && got.unknownTool.message.includes('no_such_tool'), JSON.stringify(got.unknownTool));
  got.unknownPrompt = await rejection(client.getPrompt({ name: 'no_such_prompt' }));
  expect(got.unknownPrompt.code === -32602, JSON.stringify(got.unknownPrompt));
  got.promptArguments = await rejection(client.getPrompt({ name: 'test_prompt_with_arguments', arguments: {} }));
  expect(got.promptArguments.code === -32602 && got.promptArguments.message.includes('arg1'), JSON.stringify(got.promptArguments));
  // Resource not found: -32002 with the uri in data (2025-11-25); -32602 in 2026-07-28. 2.x's user
  // gets its ResourceNotFoundError either way.
  got.noResource = await rejection(client.readResource({ uri: 'test://no/such/resource' }));
  const sent = wireError();
  expect(sent.code === (MODERN ? -32602 : -32002) && sent.data?.uri === 'test://no/such/resource', JSON.stringify(sent));
  if (spec.sdk === 'v2') expect(got.noResource.name === 'ResourceNotFoundError', JSON.stringify(got.noResource));
  else expect(got.noResource.code === -32002, JSON.stringify(got.noResource));
  // Tool execution errors (bad arguments included, SEP-1303): a result with isError, for the model.
  for (const [name, args, says] of [
    ['test_structured_number', { a: 'two', b: 3 }, 'Invalid arguments'],
    ['test_structured_number', { b: 3 }, 'Invalid arguments'],
    ['test_error_handling', {}, 'intentionally returns an error'],
  ]) {
    const outcome = await rejection(call(client, name, args));
    const result = outcome.answered;
    expect(result?.isError === true && result.content[0].text.includes(says), `${name} ${JSON.stringify(args)}: ${JSON.stringify(outcome)}`);
  }
  textOf(await call(client, 'test_simple_text')); // the connection goes on
  return JSON.stringify(got);
});

// -- tasks (2025-11-25, the 1.x SDK's experimental API: 2.x has none) ---------------------------------

if (spec.sdk === 'v1') {
  await check('tasks', async (opened) => {
    const asked = [];
    const { client } = await connect({
      'elicitation/create': async (request) => {
        asked.push(request.params.message);
        return { action: 'accept', content: { confirm: true } };
      },
    });
    opened.push(client);
    const t = sdk.types;
    expect(client.getServerCapabilities().tasks?.requests?.tools?.call !== undefined, JSON.stringify(client.getServerCapabilities()));
    // callToolStream: created, polled with tasks/get, the result by tasks/result.
    const stream = async (name, args) => {
      const seen = [];
      for await (const m of client.experimental.tasks.callToolStream({ name, arguments: args }, t.CallToolResultSchema, { task: { ttl: 60_000 } })) {
        seen.push(m);
      }
      return seen;
    };
    const kinds = (seen) => seen.map((m) => (m.type === 'taskStatus' ? m.task.status : m.type)).join(',');
    const done = await stream('slow_compute', { seconds: 0.2, label: 'ts' });
    expect(done[0].type === 'taskCreated' && done.at(-1).type === 'result', kinds(done));
    expect(done.at(-1).result.content[0].text === 'computed ts after 0.2s', JSON.stringify(done.at(-1)));
    // input_required: the SDK calls tasks/result, which carries the elicitation, then the answer.
    const confirmed = await stream('confirm_delete', { filename: 'a.txt' });
    expect(confirmed.at(-1).result?.content[0].text === 'Deleted a.txt', kinds(confirmed));
    expect(JSON.stringify(asked) === '["Delete a.txt?"]', JSON.stringify(asked));
    // A tool error fails the task (2025-11-25); the SDK reports the failure, the status says why.
    const failed = await stream('failing_job', {});
    const last = failed.filter((m) => m.type === 'taskStatus').at(-1).task;
    expect(failed.at(-1).type === 'error' && last.status === 'failed', kinds(failed));
    expect(last.statusMessage === 'failing_job failed, as it always does', JSON.stringify(last));
    // tasks/cancel while it works; tasks/get says cancelled; tasks/list has them all.
    const created = await client.request(
      { method: 'tools/call', params: { name: 'slow_compute', arguments: { seconds: 30 }, task: { ttl: 60_000 } } },
      t.CreateTaskResultSchema,
    );
    const id = created.task.taskId;
    expect((await client.experimental.tasks.getTask(id)).status === 'working', 'not working');
    expect((await client.experimental.tasks.cancelTask(id)).status === 'cancelled', 'not cancelled');
    expect((await client.experimental.tasks.getTask(id)).status === 'cancelled', 'not cancelled after');
    const listed = [];
    let cursor;
    for (let i = 0; i < 20; i++) {
      const page = await client.experimental.tasks.listTasks(cursor);
      listed.push(...page.tasks);
      cursor = page.nextCursor;
      if (cursor === undefined) break;
    }
    const ids = [done[0].task.taskId, confirmed[0].task.taskId, failed[0].task.taskId, id];
    expect(ids.every((i) => listed.some((l) => l.taskId === i)), `listed ${JSON.stringify(listed)}`);
    // A task-only tool called plainly: -32601, as the spec says.
    const plain = await client.callTool({ name: 'failing_job', arguments: {} }).then(
      (r) => `answered ${JSON.stringify(r)}`,
      (e) => e.code,
    );
    expect(plain === -32601, String(plain));
    return `${kinds(done)} / ${kinds(confirmed)} / ${kinds(failed)}`;
  });
}

// -- completion of a resource template's argument ---------------------------------------------------

await check('completion_resource_template', async (opened) => {
  const { client } = await connect();
  opened.push(client);
  const got = await client.complete({
    ref: { type: 'ref/resource', uri: 'test://template/{id}/data' },
    argument: { name: 'id', value: '1' },
  });
  expect(JSON.stringify(got.completion.values) === '["1","123"]', JSON.stringify(got));
  return got.completion.values.join(',');
});

// -- progress carries total and message -------------------------------------------------------------

await check('progress_total_message', async (opened) => {
  const { client } = await connect();
  opened.push(client);
  const steps = [];
  await call(client, 'test_tool_with_progress', {}, { onprogress: (p) => steps.push(p) });
  // The SDK race test_ts_client.py's progress check describes (stdio): a last notification read in
  // the same chunk as the answer may miss onprogress. The wire has all three before the answer.
  const sent = [];
  for (const { out, message } of client.wire) {
    if (!out && message.method === 'notifications/progress') sent.push(message.params);
    if (!out && 'result' in message) break;
  }
  expect(sent.length === 3, `on the wire before the answer: ${JSON.stringify(sent)}`);
  expect(steps.length >= 2, `onprogress saw ${JSON.stringify(steps)}`);
  for (const p of [...sent, ...steps]) {
    expect(p.total === 100 && p.message === `Completed step ${p.progress} of 100`, JSON.stringify(p));
  }
  return JSON.stringify(sent);
}, (error) => error.includes('progress notification for an unknown token') && error.includes('"progress":100'));

// -- log messages below the level the client asked for are not sent ------------------------------------

await check('log_level_filter', async (opened) => {
  const { client } = await connect();
  opened.push(client);
  const logged = () => client.wire.filter((w) => !w.out && w.message.method === 'notifications/message').length;
  const at = async (level) => {
    const before = logged();
    if (MODERN) {
      // 2026-07-28: the level is asked for per request, in _meta (v2 alone speaks it).
      const extra = { _meta: { 'io.modelcontextprotocol/logLevel': level } };
      const params = { name: 'test_tool_with_logging', arguments: {}, ...extra };
      textOf(await client.callTool(params));
    } else {
      await client.setLoggingLevel(level);
      textOf(await call(client, 'test_tool_with_logging'));
    }
    await new Promise((r) => setTimeout(r, 100));
    return logged() - before;
  };
  const info = await at('info');
  const error = await at('error');
  const debug = await at('debug');
  expect(info === 3 && error === 0 && debug === 3, `info ${info}, error ${error}, debug ${debug}`);
  return `info ${info}, error ${error}, debug ${debug}`;
});

// -- many calls at once on one connection, answered each to its own request ----------------------------

await check('concurrent_calls', async (opened) => {
  const { client } = await connect();
  opened.push(client);
  const calls = [];
  for (let i = 0; i < 40; i++) {
    calls.push(call(client, i % 2 ? 'test_structured_number' : 'test_structured_points', i % 2 ? { a: i, b: 1 } : { count: i % 5 }));
  }
  const results = await Promise.all(calls);
  results.forEach((result, i) => {
    const want = i % 2 ? { result: i + 1 } : { result: Array.from({ length: i % 5 }, (_, k) => ({ x: k, y: 2 * k, label: k ? 'other' : 'origin' })) };
    expect(JSON.stringify(result.structuredContent) === JSON.stringify(want), `call ${i}: ${JSON.stringify(result)}`);
  });
  return `${results.length} answers`;
});

// -- a large answer (several pipe buffers over stdio), non-ASCII, in one piece ------------------------

await check('large_result', async (opened) => {
  const { client } = await connect();
  opened.push(client);
  const sizes = [];
  for (const kib of [1, 300, 3000]) {
    const text = textOf(await call(client, 'test_large_text', { kib }));
    const [body, size] = [text.slice(0, text.lastIndexOf('|')), Number(text.slice(text.lastIndexOf('|') + 1))];
    expect(Buffer.byteLength(body) === size && size > (kib - 1) * 1024, `${kib} KiB: got ${Buffer.byteLength(body)} bytes, the server sent ${size}`);
    expect(body.includes('\u2028\u{1f600}'), 'the non-ASCII did not survive');
    sizes.push(size);
  }
  textOf(await call(client, 'test_simple_text'));
  return `${sizes.join(', ')} bytes`;
});

// -- the user declines or cancels an elicitation; a failing sampling handler ------------------------

await check('elicitation_declined', async (opened) => {
  const actions = ['decline', 'cancel'];
  const { client } = await connect({
    'elicitation/create': async () => ({ action: actions.shift() }),
  });
  opened.push(client);
  const first = textOf(await call(client, 'test_elicitation', { message: 'Who?' }));
  const second = textOf(await call(client, 'test_elicitation', { message: 'Who?' }));
  expect(first.includes('action=decline') && second.includes('action=cancel'), `${first} / ${second}`);
  return `${first} / ${second}`;
});

// A typed form (a dataclass with an enum, a Literal, defaults, an optional and a multi-select): the
// SDK validates the user's answer against the requestedSchema made from it; the server gets its type.
await check('typed_form', async (opened) => {
  let schema;
  const { client } = await connect({
    'elicitation/create': async (request) => {
      schema = (request.params ?? request).requestedSchema;
      return { action: 'accept', content: { name: 'ts', colour: 'sunny', topics: ['news'] } };
    },
  });
  opened.push(client);
  const text = textOf(await call(client, 'test_typed_form'));
  const want = "accept: Signup(name='ts', colour=<Conditions.SUNNY: 'sunny'>, plan='free', seats=1, newsletter=None, topics=['news'])";
  expect(text === want, `${text}\nrequestedSchema ${JSON.stringify(schema)}`);
  return text;
});

await check('sampling_refused', async (opened) => {
  let asked = 0;
  const { client } = await connect({
    'sampling/createMessage': async () => {
      asked += 1;
      throw new Error('the user refused to sample');
    },
  });
  opened.push(client);
  let outcome;
  try {
    const result = await call(client, 'test_sampling', { prompt: 'hi' });
    outcome = `answered ${JSON.stringify(result)}`;
    expect(result.isError === true, `a refused sampling was not an error: ${outcome}`);
  } catch (error) {
    outcome = `rejected: ${error?.message ?? error}`;
  }
  expect(asked === 1, `asked ${asked} times`);
  // The connection goes on.
  textOf(await call(client, 'test_simple_text'));
  return outcome;
});

// -- the call is cancelled while the server waits for the client's answer --------------------------

if (!MODERN) {
  // The server pings the client from inside a tool (Context.ping); the SDK answers it on its own.
  await check('server_pings_client', async (opened) => {
    const { client } = await connect();
    opened.push(client);
    const text = textOf(await call(client, 'test_ping_client'));
    expect(text === 'the client answered ping', text);
    const pings = client.wire.filter((w) => !w.out && w.message.method === 'ping');
    expect(pings.length === 1, `pings seen: ${pings.length}`);
    return text;
  });

  await check('cancel_during_elicitation', async (opened) => {
    let asked;
    const pending = new Promise((resolve) => {
      asked = resolve;
    });
    let released;
    const { client } = await connect({
      'elicitation/create': async (request, extra) => {
        asked(request);
        // Answers only once aborted (the server's notifications/cancelled) or after 10 s.
        await new Promise((resolve) => {
          released = resolve;
          const signal = extra?.signal ?? extra?.mcpReq?.signal;
          signal?.addEventListener('abort', () => resolve());
          setTimeout(resolve, 10_000);
        });
        return { action: 'cancel' };
      },
    });
    opened.push(client);
    const controller = new AbortController();
    const calling = call(client, 'test_elicitation', { message: 'Who?' }, { signal: controller.signal }).then(
      () => 'answered',
      (error) => `rejected: ${error?.message ?? error}`,
    );
    await pending;
    controller.abort('the user gave up');
    const outcome = await calling;
    expect(outcome.startsWith('rejected'), outcome);
    // The server withdraws its own request: a notifications/cancelled for the elicitation's id.
    const elicitation = client.wire.find((w) => !w.out && w.message.method === 'elicitation/create');
    let cancelled;
    for (let i = 0; i < 100 && !cancelled; i++) {
      cancelled = client.wire.find(
        (w) => !w.out && w.message.method === 'notifications/cancelled' && w.message.params.requestId === elicitation.message.id,
      );
      if (!cancelled) await new Promise((r) => setTimeout(r, 20));
    }
    released?.();
    expect(cancelled !== undefined, `no notifications/cancelled for elicitation ${elicitation?.message.id}`);
    textOf(await call(client, 'test_simple_text'));
    return `${outcome}; the server cancelled ${elicitation.message.id}`;
  });
}

if (!MODERN && spec.url) {
  // -- the session era's HTTP lifecycle ---------------------------------------------------------------

  // terminateSession() sends DELETE; the old id is then refused (404), and a new connect works.
  await check('terminate_and_reconnect', async (opened) => {
    const { client, transport } = await connect();
    opened.push(client);
    const old = transport.sessionId;
    expect(typeof old === 'string' && old.length > 0, `no session id: ${old}`);
    await transport.terminateSession();
    const deleted = http.filter((e) => e.method === 'DELETE' && e.session === old);
    expect(deleted.length === 1 && deleted[0].status === 200, `DELETE: ${JSON.stringify(deleted)}`);
    const stale = await fetch(spec.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': old,
        'mcp-protocol-version': spec.era,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }),
    });
    expect(stale.status === 404, `the terminated session answered ${stale.status}`);
    await close(client);
    const again = await connect();
    opened.push(again.client);
    expect(again.transport.sessionId !== old, 'the same session id again');
    const text = textOf(await call(again.client, 'test_simple_text'));
    return `${old} -> ${again.transport.sessionId}: ${text}`;
  },
  // The server ends the GET stream with the session; the SDK may try to reconnect it, sessionless.
  (error) => /SSE stream|reconnect/i.test(error));

  // The SDK's resumption (its examples' pattern): a call's stream carries event ids the client keeps
  // as resumption tokens; a new transport on the same session resumes the call with GET and
  // Last-Event-ID and receives its answer.
  await check('resume_with_token', async (opened) => {
    const { client, transport } = await connect();
    opened.push(client);
    const sessionId = transport.sessionId;
    // The stream as the SDK read it: each event's id (its resumption token) comes just before its
    // message, if it has one (a priming event has none).
    const sequence = [];
    const onmessage = transport.onmessage;
    transport.onmessage = (message, ...rest) => {
      sequence.push({ method: message.method ?? 'answer', data: message.params?.data });
      return onmessage(message, ...rest);
    };
    await client.setLoggingLevel('info');
    const request = { method: 'tools/call', params: { name: 'test_tool_with_logging', arguments: {} } };
    const result = await sdk.request(client, request, {
      onresumptiontoken: (token) => sequence.push({ token }),
    });
    expect(textOf(result).includes('successfully'), JSON.stringify(result));
    const first = sequence.findIndex((e) => e.method === 'notifications/message');
    const token = sequence[first - 1]?.token;
    expect(first > 0 && token !== undefined, `no event id on the first log message: ${JSON.stringify(sequence)}`);
    // Resume after the first log message: the rest of that stream comes again, on a new GET.
    const replayed = [];
    const answers = [];
    const resumed = new sdk.StreamableHTTPClientTransport(new URL(spec.url), { fetch: recordingFetch, sessionId });
    // Reattach without a second initialize: the session is the first client's.
    resumed.onmessage = (message) => {
      if (message.method === 'notifications/message') replayed.push(message.params.data);
      if ('result' in message) answers.push(message);
    };
    await resumed.start();
    resumed.setProtocolVersion?.(spec.era);
    await resumed.send({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, { resumptionToken: token });
    for (let i = 0; i < 100 && answers.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    await resumed.close();
    const gets = http.filter((e) => e.method === 'GET' && e.lastEventId === token);
    expect(gets.length === 1 && gets[0].status === 200, `the resuming GET: ${JSON.stringify(gets)}`);
    expect(
      JSON.stringify(replayed) === JSON.stringify(['Tool processing data', 'Tool execution completed']),
      `replayed ${JSON.stringify(replayed)} (the stream: ${JSON.stringify(sequence)})`,
    );
    expect(answers.length === 1 && answers[0].result.content[0].text.includes('successfully'), JSON.stringify(answers));
    return `after ${token}: ${JSON.stringify(replayed)} and the answer`;
  });

  // The network drops a call's SSE stream after its first log message: the SDK reconnects with GET
  // and Last-Event-ID; the call goes on in the server (a disconnect is no cancel) and the rest of its
  // stream comes, each message once.
  await check('dropped_call_stream', async (opened) => {
    const { client, transport } = await connect();
    opened.push(client);
    const session = transport.sessionId;
    const logs = [];
    sdk.onNotification(client, 'notifications/message', async (n) => logs.push((n.params ?? n).data));
    await client.setLoggingLevel('info');
    drops.push({
      match: (e) => e.method === 'POST' && e.body?.includes('test_tool_with_logging'),
      marker: 'Tool execution started',
    });
    const text = textOf(await call(client, 'test_tool_with_logging'));
    for (let i = 0; i < 50 && logs.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    const cut = http.filter((e) => e.cut && e.session === session);
    const resumed = http.filter((e) => e.method === 'GET' && e.lastEventId && e.session === session);
    expect(cut.length === 1, `the stream was not cut: ${JSON.stringify(http.slice(-6))}`);
    expect(resumed.length >= 1 && resumed.every((e) => e.status === 200), `resumed: ${JSON.stringify(resumed)}`);
    expect(
      JSON.stringify(logs) === JSON.stringify(['Tool execution started', 'Tool processing data', 'Tool execution completed']),
      `log messages ${JSON.stringify(logs)}`,
    );
    return `${text}; resumed after ${resumed[0].lastEventId}`;
  }, (error) => error.includes('dropped by the test'));

  // The network drops the standalone GET stream after a first notification; a second one is sent
  // while the client is away. The SDK reconnects with Last-Event-ID and gets the second, once.
  await check('dropped_get_stream', async (opened) => {
    // Armed before connecting: the GET stream the SDK opens after initialize is the one cut.
    drops.push({ match: (e) => e.method === 'GET' && !e.lastEventId, marker: 'notifications/tools/list_changed' });
    const { client, transport } = await connect();
    opened.push(client);
    const seen = () => client.wire.filter((w) => !w.out && w.message.method === 'notifications/tools/list_changed').length;
    const session = transport.sessionId;
    for (let i = 0; i < 100 && !http.some((e) => e.method === 'GET' && e.session === session && e.status); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    textOf(await call(client, 'test_trigger_tool_change'));
    for (let i = 0; i < 100 && !http.some((e) => e.cut && e.session === session); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(http.some((e) => e.cut && e.session === session), `the GET stream was not cut: ${JSON.stringify(http.slice(-6))}`);
    textOf(await call(client, 'test_trigger_tool_change'));
    for (let i = 0; i < 150 && seen() < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const resumed = http.filter((e) => e.method === 'GET' && e.lastEventId && e.session === session);
    expect(resumed.length >= 1 && resumed[0].status === 200, `resumed: ${JSON.stringify(resumed)}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen() === 2, `list_changed seen ${seen()} times`);
    return `resumed after ${resumed[0].lastEventId}`;
  }, (error) => error.includes('dropped by the test'));

  // The server closes a call's SSE stream mid-call (SEP-1699); the SDK reconnects on its own with
  // GET and Last-Event-ID after the `retry` the server gave, and the call is answered.
  await check('server_closes_stream', async (opened) => {
    const { client, transport } = await connect();
    opened.push(client);
    const text = textOf(await call(client, 'test_reconnection'));
    const resumed = http.filter((e) => e.method === 'GET' && e.lastEventId && e.session === transport.sessionId);
    expect(resumed.length >= 1 && resumed.every((e) => e.status === 200), JSON.stringify(resumed));
    return text;
  });

  // -- Mcp-Protocol-Version: what the SDK sends after initialize; a wrong one is refused -----------
  await check('protocol_version_header', async (opened) => {
    const { client, transport } = await connect();
    opened.push(client);
    const headers = (version) => ({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': transport.sessionId,
      ...(version === undefined ? {} : { 'mcp-protocol-version': version }),
    });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' });
    const statuses = {};
    for (const version of [spec.era, '2025-03-26', '1999-01-01', undefined]) {
      const response = await fetch(spec.url, { method: 'POST', headers: headers(version), body });
      statuses[version ?? 'none'] = response.status;
      await response.text();
    }
    expect(statuses[spec.era] === 200, JSON.stringify(statuses));
    expect(statuses['1999-01-01'] === 400, JSON.stringify(statuses));
    // The SDK sends the header on every request after initialize; the session still works.
    textOf(await call(client, 'test_simple_text'));
    return JSON.stringify(statuses);
  });
}

// -- closing: over stdio the SDK ends the server's stdin and waits for it to exit (then SIGTERM after 2 s)

await check('close_quickly', async () => {
  const { client } = await connect();
  textOf(await call(client, 'test_simple_text'));
  const started = performance.now();
  await close(client);
  const ms = performance.now() - started;
  expect(ms < 1500, `close took ${ms.toFixed(0)} ms`);
  return `${ms.toFixed(0)} ms`;
});

process.stdout.write(JSON.stringify({ checks, http: http.slice(-30) }) + '\n');
process.exit(0);
