-- wrk script: one JSON line of results per run (throughput, p50/p90/p99, non-200 count).
-- With arguments `-- <signatures file> <threads>` each request carries the next unused
-- X-Auth-Nonce / X-Auth-Signature pair; thread i takes lines i, i+n, i+2n, ...
-- With WRK_PACE_MS set, each connection waits a random 0.5x-1.5x that many milliseconds
-- (mean: WRK_PACE_MS) between an answer and its next request: c connections then offer
-- about c * 1000 / WRK_PACE_MS requests per second, less their own latency (bench/run
-- prints the rate achieved). Without it, every connection sends as fast as it is answered.
-- With WRK_DISTINCT set, each request's query string is new (``?n=<thread>-<count>``): no
-- two requests are the same, so the authz front decides every one of them instead of
-- giving an answer it remembers for the rest of its second (permissions/lean.py).

local distinct = os.getenv("WRK_DISTINCT")
local sent = 0

local pace_ms = tonumber(os.getenv("WRK_PACE_MS") or "")

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")

function init(args)
  non200 = 0
  math.randomseed(os.time() * 1000 + id)
  if args[1] then
    -- Only this thread's lines, in two flat arrays: a table per line for every line of
    -- the file made each thread's heap a few hundred thousand objects, and LuaJIT's
    -- collector then stopped the thread for ~90 ms at a time (p99 of a 15 s run).
    nonces, signatures = {}, {}
    local step_ = tonumber(args[2])
    local n = 0
    for line in io.lines(args[1]) do
      if n % step_ == id then
        local nonce, signature = line:match("^(%d+) (%x+)$")
        nonces[#nonces + 1] = nonce
        signatures[#signatures + 1] = signature
      end
      n = n + 1
    end
    index = 1
    collectgarbage("collect")
  end
end

function request()
  if nonces then
    local at = index
    if nonces[at] == nil then
      -- Out of fresh signatures: a replay, which the server must refuse (counted below).
      at = 1
    end
    index = index + 1
    wrk.headers["X-Auth-Nonce"] = nonces[at]
    wrk.headers["X-Auth-Signature"] = signatures[at]
  end
  if distinct then
    sent = sent + 1
    return wrk.format(nil, wrk.path .. "?n=" .. id .. "-" .. sent)
  end
  return wrk.format()
end

-- wrk times a connection's first request from before its delay: each connection's first
-- request goes out at once (WRK_PACE_FIRST: connections per thread), the pacing starts after.
local unpaced = tonumber(os.getenv("WRK_PACE_FIRST") or "0")
if pace_ms then
  function delay()
    if unpaced > 0 then
      unpaced = unpaced - 1
      return 0
    end
    return math.floor(pace_ms * (0.5 + math.random()))
  end
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end
