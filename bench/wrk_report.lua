-- What bench/wrk.lua and bench/post.lua share: each thread counts the answers it did not
-- expect in its global `non200`, and the run ends with one JSON line of results
-- (throughput, p50/p90/p95/p99, max, that count, socket errors). Loaded with dofile by both.

local thread_count = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_count)
  table.insert(threads, thread)
  thread_count = thread_count + 1
end

function done(summary, latency, requests)
  local errors = summary.errors
  local non200 = 0
  for _, thread in ipairs(threads) do
    non200 = non200 + thread:get("non200")
  end
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, '
      .. '"p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "non_200": %d, "socket_errors": %d}\n',
    summary.requests,
    summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000,
    latency:percentile(90) / 1000,
    latency:percentile(95) / 1000,
    latency:percentile(99) / 1000,
    latency.max / 1000,
    non200,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
