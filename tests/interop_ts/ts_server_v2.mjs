// A server built with the 2.x SDK (@modelcontextprotocol/server), the way its guide serves one: one
// McpServer factory, served over HTTP by createMcpHandler (2026-07-28 per request, and 2025-era
// traffic by its stateless legacy fallback) or over stdio by serveStdio (the opening picks the era).
//
//   node ts_server_v2.mjs '{"port": N}'        HTTP on 127.0.0.1:N/mcp; prints "listening N"
//   node ts_server_v2.mjs '{"stdio": true}'    stdio
//
// Its tools use the 2026-07-28 idioms: input by multi-round trip (inputRequired + requestState),
// structured output, progress and log notifications on the request's stream; `change` publishes
// notifications/tools/list_changed to open subscriptions/listen streams.

import http from 'node:http';
import * as z from 'zod/v4';
import { McpServer, acceptedContent, createMcpHandler, inputRequired, inputResponse } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

const spec = JSON.parse(process.argv[2]);
let notify;
// How many `wait` calls saw their request's abort signal (the client cancelled them); per process.
let aborted = 0;

function makeServer() {
  const server = new McpServer(
    { name: 'mcpbind-interop-ts-server-v2', version: '2.0.0' },
    // tools/list may be cached a minute (2026-07-28 ttlMs): a client refetches on list_changed.
    { capabilities: { logging: {}, tools: { listChanged: true } }, cacheHints: { 'tools/list': { ttlMs: 60_000 } } },
  );

  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text', text: `echo: ${text}` }],
  }));

  server.registerTool(
    'weather',
    {
      inputSchema: z.object({ city: z.string() }),
      outputSchema: z.object({ city: z.string(), celsius: z.number(), conditions: z.enum(['sunny', 'rainy']) }),
    },
    async ({ city }) => {
      const structuredContent = { city, celsius: 21.5, conditions: 'sunny' };
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
    },
  );

  server.registerTool('progress', { inputSchema: z.object({ steps: z.number() }) }, async ({ steps }, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (token !== undefined) {
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: steps, message: `step ${i} of ${steps}` },
        });
      }
    }
    return { content: [{ type: 'text', text: `${steps} steps` }] };
  });

  server.registerTool('slow', { inputSchema: z.object({ ms: z.number() }) }, async ({ ms }, ctx) => {
    // A first notification makes the answer an SSE stream; keep-alive comments follow while it waits.
    const token = ctx.mcpReq._meta?.progressToken;
    if (token !== undefined) {
      await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: 0, total: 1 } });
    }
    await new Promise((r) => setTimeout(r, ms));
    return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
  });

  server.registerTool('wait', { inputSchema: z.object({}) }, async (_args, ctx) => {
    const signal = ctx.mcpReq.signal;
    // Progress 0 first: the client knows the call is running here before it cancels.
    const token = ctx.mcpReq._meta?.progressToken;
    if (token !== undefined) {
      await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: 0 } });
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      signal.addEventListener('abort', () => {
        aborted += 1;
        clearTimeout(timer);
        resolve();
      });
    });
    return { content: [{ type: 'text', text: 'waited' }] };
  });

  server.registerTool('aborted', { inputSchema: z.object({}) }, async () => ({
    content: [{ type: 'text', text: `aborted=${aborted}` }],
  }));

  server.registerTool('log', { inputSchema: z.object({}) }, async (_args, ctx) => {
    await ctx.mcpReq.log('info', 'first');
    await ctx.mcpReq.log('debug', 'second, below info');
    await ctx.mcpReq.log('warning', 'third');
    return { content: [{ type: 'text', text: 'logged' }] };
  });

  // Two rounds: a name (elicitation), then a confirmation carrying the name in requestState.
  server.registerTool('signup', { inputSchema: z.object({}) }, async (_args, ctx) => {
    // requestState is an opaque string on the wire: the server's own encoding (plain JSON here).
    const raw = ctx.mcpReq.requestState();
    const saved = typeof raw === 'string' ? JSON.parse(raw) : raw;
    if (saved === undefined || saved === null) {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'name');
      if (answer?.name === undefined) {
        return inputRequired({
          inputRequests: {
            name: inputRequired.elicit({
              message: 'Your name?',
              requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
            }),
          },
        });
      }
      return inputRequired({
        inputRequests: {
          confirm: inputRequired.elicit({
            message: `Sign up ${answer.name}?`,
            requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
          }),
        },
        requestState: JSON.stringify({ name: answer.name }),
      });
    }
    const confirm = acceptedContent(ctx.mcpReq.inputResponses, 'confirm');
    return { content: [{ type: 'text', text: `${saved.name}: ${confirm?.ok ? 'signed up' : 'not signed up'}` }] };
  });

  server.registerTool('sample', { inputSchema: z.object({ prompt: z.string() }) }, async ({ prompt }, ctx) => {
    const got = inputResponse(ctx.mcpReq.inputResponses, 'llm');
    if (got.kind !== 'sampling') {
      return inputRequired({
        inputRequests: {
          llm: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
            maxTokens: 50,
          }),
        },
      });
    }
    return { content: [{ type: 'text', text: `sampled: ${got.result.content.text}` }] };
  });

  server.registerTool('roots', { inputSchema: z.object({}) }, async (_args, ctx) => {
    const got = inputResponse(ctx.mcpReq.inputResponses, 'roots');
    if (got.kind !== 'roots') return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
    return { content: [{ type: 'text', text: got.roots.map((r) => r.uri).join(',') }] };
  });

  server.registerTool('change', { inputSchema: z.object({}) }, async () => {
    notify?.toolsChanged();
    return { content: [{ type: 'text', text: 'changed' }] };
  });
  return server;
}

if (spec.stdio) {
  serveStdio(() => makeServer(), { onerror: (e) => console.error('onerror', e) });
} else {
  const handler = createMcpHandler(() => makeServer(), {
    onerror: (e) => console.error('onerror', e.message),
    // keepAliveMs: SSE comment frames this often on every stream (the default is 15 s).
    ...(spec.keepAliveMs === undefined ? {} : { keepAliveMs: spec.keepAliveMs }),
  });
  notify = handler.notify;
  // node:http to the web-standard face (what @modelcontextprotocol/node's toNodeHandler does).
  const httpServer = http.createServer(async (req, res) => {
    try {
      const url = `http://127.0.0.1:${spec.port}${req.url}`;
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const controller = new AbortController();
      res.on('close', () => controller.abort());
      const request = new Request(url, {
        method: req.method,
        headers: Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])),
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
        signal: controller.signal,
      });
      const response = url.endsWith('/mcp') ? await handler.fetch(request) : new Response('not found', { status: 404 });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (response.body) {
        for await (const chunk of response.body) res.write(chunk);
      }
      res.end();
    } catch (error) {
      console.error(error);
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.end();
    }
  });
  httpServer.listen(spec.port, '127.0.0.1', () => console.log(`listening ${spec.port}`));
}
