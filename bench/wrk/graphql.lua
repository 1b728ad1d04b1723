-- wrk script for bench.http: POSTs GraphQL bodies and counts answers carrying errors.
--
-- $BENCH_WRK_BODIES names a file with one request a line: a JSON body, or a bearer token, a tab and the
-- JSON body (sent with "Authorization: Bearer <token>"). Requests take the lines in turn, from a random
-- line, so that many viewers, carts and variants share the load and run after run spreads over them all.
-- GraphQL errors come back with HTTP 200: an answer counts as an error when its body has a non-empty
-- "errors" list (top-level errors, or a mutation payload's UserErrors), and separately when it is not 200.
-- done() prints one line "WRK_JSON {...}" that bench.http parses (latencies in microseconds).

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

function init(args)
  requests_ = {}
  for line in io.lines(os.getenv("BENCH_WRK_BODIES")) do
    if #line > 0 then
      local headers = { ["Content-Type"] = "application/json" }
      local tab = string.find(line, "\t", 1, true)
      local body = line
      if tab ~= nil then
        headers["Authorization"] = "Bearer " .. string.sub(line, 1, tab - 1)
        body = string.sub(line, tab + 1)
      end
      table.insert(requests_, wrk.format("POST", nil, headers, body))
    end
  end
  errors = 0
  non200 = 0
  math.randomseed(os.time() + (thread_number or 0))
  turn = math.random(#requests_)
end

function request()
  turn = turn + 1
  return requests_[(turn % #requests_) + 1]
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
  if string.find(body, '"errors":[{', 1, true) ~= nil then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local errors_body, not_ok = 0, 0
  for _, thread in ipairs(threads) do
    errors_body = errors_body + thread:get("errors")
    not_ok = not_ok + thread:get("non200")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_body":%d,"non200":%d,'
      .. '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, errors_body, not_ok,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean
  ))
end
