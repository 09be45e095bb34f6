-- wrk script for bench/scaleout.py: `echo` tool calls (POST /mcp) of one MCP era, each answer checked.
--
--   wrk -t T -c C -d D -s bench/wrk_mcp.lua http://127.0.0.1:PORT/mcp -- ERA [SESSION,SESSION,...]
--
-- 2026-07-28 requests carry their version and capabilities in `_meta` (no handshake). A stateful era
-- needs sessions opened beforehand (initialize, notifications/initialized: the Python side does it);
-- requests take them in turn. Requests in flight have distinct JSON-RPC ids. An answer that is not HTTP 200
-- with a JSON-RPC result counts as bad; the first one is printed. `done` prints one JSON line,
-- prefixed "wrk-json: ", which scaleout.py reads.

local threads = {}
POOL = 4096
local created = 0

function setup(thread)
  created = created + 1
  thread:set("tid", created)
  table.insert(threads, thread)
end

function init(args)
  era = args[1]
  sessions = {}
  for s in string.gmatch(args[2] or "", "[^,]+") do
    table.insert(sessions, s)
  end
  sent = 0
  bad = 0
  first_bad = ""
  headers = {
    ["content-type"] = "application/json",
    ["accept"] = "application/json, text/event-stream",
    ["mcp-protocol-version"] = era,
  }
  meta = ""
  if #sessions == 0 then
    headers["mcp-method"] = "tools/call"
    headers["mcp-name"] = "echo"
    meta = ',"_meta":{"io.modelcontextprotocol/protocolVersion":"' .. era .. '",'
      .. '"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"},'
      .. '"io.modelcontextprotocol/clientCapabilities":{}}'
  end
  -- The requests are made once: the driver must cost far less per call than the servers. Ids repeat
  -- only after POOL requests of this thread, far more than are ever in flight at once.
  local head = '{"jsonrpc":"2.0","id":'
  local tail = ',"method":"tools/call","params":{"name":"echo",'
    .. '"arguments":{"text":"hello from the benchmark driver"}' .. meta .. '}}'
  pool = {}
  for i = 1, POOL do
    if #sessions > 0 then
      headers["mcp-session-id"] = sessions[(i + tid) % #sessions + 1]
    end
    pool[i] = wrk.format("POST", nil, headers, head .. (tid * 1000000000 + i) .. tail)
  end
end

function request()
  sent = sent + 1
  return pool[sent % POOL + 1]
end

function response(status, hdrs, body)
  if status ~= 200 or not string.find(body, '"result"', 1, true) then
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body, 1, 200)
    end
  end
end

local function quote(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
  local bad_total, first = 0, ""
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    if first == "" then first = thread:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'wrk-json: {"requests":%d,"duration_us":%d,"bad":%d,"first_bad":%s,"errors":%d,'
      .. '"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, bad_total, quote(first),
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
