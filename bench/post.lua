-- wrk script: JSON POSTs of a login or a sign-up; one JSON line of results per run.
-- Arguments `-- login <email> <password>`: every request logs the same member in.
-- Arguments `-- signup <password> <tag>`: every request signs a new address up
-- (bench-<tag>-<thread>-<n>@example.com, so runs and threads never collide).
-- The answer it expects: 200 for a login, 201 for a sign-up; others are counted.

local thread_count = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_count)
  table.insert(threads, thread)
  thread_count = thread_count + 1
end

function init(args)
  non200 = 0
  mode = args[1]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if mode == "login" then
    expected = 200
    wrk.body = string.format('{"email": "%s", "password": "%s"}', args[2], args[3])
  else
    expected = 201
    password, tag, n = args[2], args[3], 0
  end
end

function request()
  if mode == "signup" then
    n = n + 1
    local body = string.format(
      '{"email": "bench-%s-%d-%d@example.com", "password": "%s"}', tag, id, n, password)
    return wrk.format(nil, nil, nil, body)
  end
  return wrk.format()
end

function response(status, headers, body)
  if status ~= expected then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
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
    bad,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
