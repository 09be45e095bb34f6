// The official TypeScript SDK (@modelcontextprotocol/sdk, McpServer) as a benchmark peer: the same tools
// as bench/apps/_toolgen.py (echo, echo_progress, big, blob and N generated tools) over stdio or
// Streamable HTTP on node:http. The SDK and a Node 22 binary are pinned in tests/interop_ts/package-lock.json
// (`npm ci` there); bench/servers.py runs this file with that Node.
//
//   node bench/apps/ts_server.mjs [--tools N]                          # stdio
//   node bench/apps/ts_server.mjs --http PORT [--json] [--stateless]   # POST /mcp
//
// HTTP with sessions keeps one transport and McpServer per session, as the SDK's examples do; --stateless
// makes a transport and a server per request (the SDK refuses to reuse a stateless transport). Its latest
// protocol revision is 2025-11-25: it has no 2026-07-28 envelope, so its stateless rows are 2025-11-25
// without a session.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = createRequire(path.join(here, '..', '..', 'tests', 'interop_ts', 'package.json'));
const { McpServer } = modules('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = modules('@modelcontextprotocol/sdk/server/stdio.js');
const { StreamableHTTPServerTransport } = modules('@modelcontextprotocol/sdk/server/streamableHttp.js');
const z = createRequire(modules.resolve('@modelcontextprotocol/sdk/server/mcp.js'))('zod');

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const httpPort = opt('--http');
const nTools = Number(opt('--tools') ?? 0);
const jsonResponse = argv.includes('--json');
const stateless = argv.includes('--stateless');

const MEGABYTE = '0123456789abcdef'.repeat(65536);
const blobs = new Map();
const blob = (size) => {
  let text = blobs.get(size);
  if (text === undefined) {
    text = '0123456789abcdef'.repeat(Math.ceil(size / 16) + 1).slice(0, size);
    blobs.set(size, text);
  }
  return text;
};
const text = (t) => ({ content: [{ type: 'text', text: t }] });

const VERBS = ['search', 'create', 'update', 'delete', 'list', 'get', 'archive', 'export', 'import', 'sync'];
const NOUNS = ['issue', 'document', 'invoice', 'contact', 'event'];
const PARAMS = [
  ['query', () => z.string()],
  ['limit', () => z.number().int().default(10)],
  ['include_archived', () => z.boolean().default(false)],
  ['tags', () => z.array(z.string()).nullable().default(null)],
  ['order', () => z.enum(['asc', 'desc']).default('asc')],
];

function makeServer() {
  const server = new McpServer({ name: 'bench-ts', version: '1.0.0' });
  server.registerTool('echo', { description: 'Say `text` back.', inputSchema: { text: z.string() } }, async ({ text: t }) =>
    text(t),
  );
  server.registerTool(
    'echo_progress',
    { description: 'Report progress once, then say `text` back.', inputSchema: { text: z.string() } },
    async ({ text: t }, extra) => {
      const token = extra._meta?.progressToken;
      if (token !== undefined) {
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 1 } });
      }
      return text(t);
    },
  );
  server.registerTool('big', { description: '1 MB of text.' }, async () => text(MEGABYTE));
  server.registerTool('blob', { description: '`size` bytes of text.', inputSchema: { size: z.number().int() } }, async ({ size }) =>
    text(blob(size)),
  );
  for (let i = 0; i < nTools; i++) {
    const name = `${VERBS[i % VERBS.length]}_${NOUNS[Math.floor(i / VERBS.length) % NOUNS.length]}_${i}`;
    const words = name.replaceAll('_', ' ');
    const description = `${words[0].toUpperCase()}${words.slice(1)}: look the records up and report what matched, tool ${i}.`;
    const shape = Object.fromEntries(PARAMS.slice(0, 3 + (i % 3)).map(([k, f]) => [k, f()]));
    server.registerTool(name, { description, inputSchema: shape }, async ({ query }) => text(query));
  }
  return server;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
}

if (httpPort === undefined) {
  await makeServer().connect(new StdioServerTransport());
} else {
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    try {
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      if (stateless) {
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: jsonResponse });
        const server = makeServer();
        res.on('close', () => {
          transport.close();
          server.close();
        });
        await server.connect(transport);
        await transport.handleRequest(req, res, body);
        return;
      }
      const sid = req.headers['mcp-session-id'];
      let transport = sid ? sessions.get(sid) : undefined;
      if (transport === undefined) {
        if (sid || req.method !== 'POST') {
          res.writeHead(sid ? 404 : 400).end();
          return;
        }
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: jsonResponse,
          onsessioninitialized: (id) => sessions.set(id, transport),
        });
        transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
        await makeServer().connect(transport);
      }
      await transport.handleRequest(req, res, body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    }
  });
  http.keepAliveTimeout = 600_000;
  http.listen(Number(httpPort), '127.0.0.1');
}
