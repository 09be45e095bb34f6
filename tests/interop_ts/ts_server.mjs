// A server built the way a TypeScript user builds one: the 1.x SDK's McpServer behind its
// StreamableHTTPServerTransport on node:http, one transport per session (as the SDK's examples do),
// in the transport's modes server-everything does not use:
//
//   node ts_server.mjs '{"port": N, "json": bool, "stateless": bool, "events": bool}'
//
// json: enableJsonResponse (answers as application/json, no SSE); stateless: sessionIdGenerator
// undefined (no Mcp-Session-Id, a server per request); events: an InMemoryEventStore with a short
// retryInterval, so that a tool can close its request's SSE stream mid-call (SEP-1699 polling) and
// the client must resume with GET and Last-Event-ID. POST /expire forgets every session (the next
// request with an old id is answered 404, as after a restart). Prints "listening PORT" when ready.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import * as z from 'zod/v4';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ElicitResultSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { InMemoryTaskMessageQueue, InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js';

const spec = JSON.parse(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Tasks (the 1.x SDK's experimental API, as its simpleStreamableHttp example does): one store for
// every session, as a task outlives the request that created it.
const taskStore = new InMemoryTaskStore();
const taskCapabilities = { list: {}, cancel: {}, requests: { tools: { call: {} } } };

function makeServer() {
  const server = new McpServer(
    { name: 'mcpbind-interop-ts-server', version: '1.0.0' },
    { capabilities: { logging: {}, tasks: taskCapabilities }, taskStore, taskMessageQueue: new InMemoryTaskMessageQueue() },
  );
  registerTaskTools(server);

  server.registerTool(
    'weather',
    {
      description: 'Structured output, validated against its outputSchema by the client',
      inputSchema: { city: z.string() },
      outputSchema: { city: z.string(), celsius: z.number(), conditions: z.enum(['sunny', 'rainy']) },
    },
    async ({ city }) => {
      const structuredContent = { city, celsius: 21.5, conditions: 'sunny' };
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
    },
  );

  server.registerTool(
    'bad-weather',
    {
      description: 'structuredContent that does not match its own outputSchema',
      inputSchema: {},
      outputSchema: { celsius: z.number() },
    },
    // The SDK validates its own output: bypass it by answering from the low-level handler below.
    async () => ({ content: [{ type: 'text', text: 'unused' }], structuredContent: { celsius: 1 } }),
  );

  // A structured result of every zod shape a TypeScript user writes: our client checks each against
  // the outputSchema the SDK made of it (draft-07: `items` as a list for a tuple, `definitions`...).
  const Shape = z.object({
    tuple: z.tuple([z.number(), z.string()]),
    record: z.record(z.string(), z.number()),
    union: z.union([z.string(), z.number()]),
    tagged: z.discriminatedUnion('kind', [z.object({ kind: z.literal('a'), a: z.number() }), z.object({ kind: z.literal('b'), b: z.string() })]),
    nullable: z.string().nullable(),
    optional: z.string().optional(),
    withDefault: z.number().default(3),
    list: z.array(z.object({ name: z.string(), tags: z.array(z.enum(['x', 'y'])) })),
    literal: z.literal('fixed'),
    int: z.number().int().min(0).max(10),
    email: z.string().email(),
    when: z.string().datetime(),
    nested: z.object({ deep: z.object({ deeper: z.array(z.tuple([z.boolean()])) }) }),
  });
  server.registerTool(
    'shapes',
    { description: 'Structured content of many zod shapes', inputSchema: {}, outputSchema: Shape.shape },
    async () => {
      const structuredContent = {
        tuple: [1, 'one'],
        record: { a: 1 },
        union: 2,
        tagged: { kind: 'b', b: 'bee' },
        nullable: null,
        withDefault: 4,
        list: [{ name: 'n', tags: ['x'] }],
        literal: 'fixed',
        int: 7,
        email: 'a@example.invalid',
        when: '2026-01-02T03:04:05Z',
        nested: { deep: { deeper: [[true]] } },
      };
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
    },
  );

  server.registerTool(
    'progress',
    { description: 'Progress with total and message', inputSchema: { steps: z.number() } },
    async ({ steps }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: steps, message: `step ${i} of ${steps}` },
          });
        }
      }
      return { content: [{ type: 'text', text: `${steps} steps` }] };
    },
  );

  server.registerTool(
    'ping-client',
    { description: 'The server pings the client, then answers', inputSchema: {} },
    async () => {
      const started = Date.now();
      await server.server.ping();
      return { content: [{ type: 'text', text: `pong in ${Date.now() - started} ms` }] };
    },
  );

  server.registerTool(
    'polling',
    { description: 'Logs, closes its SSE stream (SEP-1699), logs again, answers', inputSchema: {} },
    async (_args, extra) => {
      await server.sendLoggingMessage({ level: 'info', data: 'before the stream closed' }, extra.sessionId);
      if (extra.closeSSEStream) extra.closeSSEStream();
      await sleep(300);
      await server.sendLoggingMessage({ level: 'info', data: 'while the client was away' }, extra.sessionId);
      return { content: [{ type: 'text', text: extra.closeSSEStream ? 'polled' : 'no stream to close' }] };
    },
  );

  // Asks the client, tied to this call: when the call is cancelled, the SDK cancels its question too
  // (notifications/cancelled for the elicitation's id).
  server.registerTool('ask', { description: 'Asks the client and waits', inputSchema: {} }, async (_args, extra) => {
    const params = { mode: 'form', message: 'Wait for me', requestedSchema: { type: 'object', properties: {} } };
    const result = await extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema, {
      signal: extra.signal,
      timeout: 60_000,
    });
    return { content: [{ type: 'text', text: result.action }] };
  });

  server.registerTool(
    'roots',
    { description: 'Asks the client for its roots', inputSchema: {} },
    async () => {
      const { roots } = await server.server.listRoots();
      return { content: [{ type: 'text', text: roots.map((r) => r.uri).join(',') }] };
    },
  );
  return server;
}

// Task tools: 'delay' answers after `ms` (or ends failed: `fail`); 'confirm-task' asks the client
// (input_required, its elicitation carried by tasks/result) before it answers.
function registerTaskTools(server) {
  const taskHandlers = (start) => ({
    async createTask(args, { taskStore: store, taskRequestedTtl }) {
      const task = await store.createTask({ ttl: taskRequestedTtl, pollInterval: 100 });
      start(args, task).then(
        (result) => store.storeTaskResult(task.taskId, result.isError ? 'failed' : 'completed', result),
        (error) => store.storeTaskResult(task.taskId, 'failed', { content: [{ type: 'text', text: String(error) }], isError: true }),
      );
      return { task };
    },
    getTask: (_args, { taskId, taskStore: store }) => store.getTask(taskId),
    getTaskResult: (_args, { taskId, taskStore: store }) => store.getTaskResult(taskId),
  });
  server.experimental.tasks.registerToolTask(
    'delay',
    { description: 'A task that answers after `ms`', inputSchema: { ms: z.number(), fail: z.boolean().optional() }, execution: { taskSupport: 'required' } },
    taskHandlers(async ({ ms, fail }) => {
      await sleep(ms);
      return { content: [{ type: 'text', text: fail ? 'delay failed' : `waited ${ms} ms` }], isError: Boolean(fail) };
    }),
  );
  server.experimental.tasks.registerToolTask(
    'confirm-task',
    { description: 'A task that asks the client to confirm', inputSchema: {}, execution: { taskSupport: 'optional' } },
    taskHandlers(async (_args, task) => {
      const requestedSchema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
      const stream = server.server.experimental.tasks.elicitInputStream({ mode: 'form', message: 'Confirm?', requestedSchema });
      for await (const message of stream) {
        if (message.type === 'error') throw message.error;
        if (message.type === 'result') {
          return { content: [{ type: 'text', text: `confirmed=${message.result.content?.ok} in ${task.taskId}` }] };
        }
      }
      throw new Error('no answer');
    }),
  );
}

// 'bad-weather' (and 'shapes' with `broken`): the McpServer would refuse its own invalid output, so
// the test of a client's validation needs the low-level answer. Replace the tools/call handler's
// result for those.
function breakBadWeather(server) {
  const inner = server.server;
  const handlers = inner._requestHandlers;
  const original = handlers.get('tools/call');
  handlers.set('tools/call', async (request, extra) => {
    if (request.params?.name === 'bad-weather') {
      return { content: [{ type: 'text', text: '{"celsius":"warm"}' }], structuredContent: { celsius: 'warm' } };
    }
    if (request.params?.name === 'shapes' && request.params.arguments?.broken) {
      // The shapes with a tuple's second member of the wrong type: a client checking must refuse it.
      const good = await original({ ...request, params: { ...request.params, arguments: {} } }, extra);
      const structuredContent = { ...good.structuredContent, tuple: [1, 2] };
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
    }
    return original(request, extra);
  });
}

const sessions = new Map();
const eventStore = spec.events ? new InMemoryEventStore() : undefined;

function newTransport() {
  return new StreamableHTTPServerTransport({
    sessionIdGenerator: spec.stateless ? undefined : () => randomUUID(),
    enableJsonResponse: Boolean(spec.json),
    eventStore,
    retryInterval: spec.events ? 100 : undefined,
    onsessioninitialized: (id) => sessions.set(id, transport_of_init.current),
  });
}

const transport_of_init = { current: undefined };

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/expire' && req.method === 'POST') {
      for (const t of sessions.values()) await t.close();
      sessions.clear();
      return answer(res, 200, { expired: true });
    }
    if (url.pathname !== '/mcp') return answer(res, 404, { error: 'not found' });
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    if (spec.stateless) {
      const server = makeServer();
      breakBadWeather(server);
      const transport = newTransport();
      res.on('close', () => {
        transport.close();
        server.close();
      });
      await server.connect(transport);
      return await transport.handleRequest(req, res, body);
    }
    const id = req.headers['mcp-session-id'];
    if (id !== undefined) {
      const transport = sessions.get(id);
      if (transport === undefined) {
        return answer(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      }
      return await transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return answer(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'No valid session ID' }, id: null });
    }
    const server = makeServer();
    breakBadWeather(server);
    const transport = newTransport();
    transport_of_init.current = transport;
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) answer(res, 500, { error: String(error) });
  }
});

httpServer.listen(spec.port, '127.0.0.1', () => {
  console.log(`listening ${spec.port}`);
});
