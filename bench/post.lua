-- wrk script: JSON POSTs of a login or a sign-up; one JSON line of results per run.
-- Arguments `-- login <email> <password>`: every request logs the same member in.
-- Arguments `-- signup <password> <tag>`: every request signs a new address up
-- (bench-<tag>-<thread>-<n>@example.com, so runs and threads never collide).
-- The answer it expects: 200 for a login, 201 for a sign-up; others are counted.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")

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
