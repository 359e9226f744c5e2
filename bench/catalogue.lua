-- wrk script for bench/catalogue.py.
--
--   wrk ... -s bench/catalogue.lua URL -- ids N      GET /bench/baseline/<random 1..N>
--   wrk ... -s bench/catalogue.lua URL -- urls FILE  GET each path of FILE in turn
--                                                    (every thread starts at a random line)
--
-- With BENCH_PACE_MS set, every connection pauses between requests (see below).
-- Every response outside 200-299 is counted; done() prints the lines that the Python
-- side parses: "BENCH non2xx=<count> first_status=<status or 0>", and the latency
-- quantiles.

local threads = {}
local next_id = 1

-- BENCH_PACE_MS=<mean>: each connection waits a random time (exponential, of that mean,
-- in milliseconds) before each request, so the load is a set rate below the server's
-- saturation instead of as fast as it answers (bench/catalogue.py, paced_latency).
local pace = tonumber(os.getenv("BENCH_PACE_MS") or "")
if pace and pace > 0 then
  function delay()
    return math.floor(-pace * math.log(1 - math.random()))
  end
end

function setup(thread)
  thread:set("thread_no", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local mode, max_id, paths, index
non2xx = 0
first_status = 0

function init(args)
  mode = args[1]
  math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
  if mode == "ids" then
    max_id = tonumber(args[2])
    if not max_id or max_id < 1 then
      error("ids mode needs a positive maximum id")
    end
  elseif mode == "urls" then
    paths = {}
    for line in io.lines(args[2]) do
      if #line > 0 then
        paths[#paths + 1] = line
      end
    end
    if #paths == 0 then
      error("no paths in " .. args[2])
    end
    index = math.random(#paths)
  else
    error("first script argument must be 'ids' or 'urls'")
  end
end

function request()
  if mode == "ids" then
    return wrk.format("GET", "/bench/baseline/" .. math.random(max_id))
  end
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_status == 0 then
      first_status = status
    end
  end
end

function done(summary, latency, requests)
  local total, first = 0, 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("non2xx") or 0)
    local status = thread:get("first_status") or 0
    if first == 0 and status ~= 0 then
      first = status
    end
  end
  io.write(string.format("BENCH non2xx=%d first_status=%d\n", total, first))
  -- the latency at every 0.1 % (microseconds), so that the Python side can pool the
  -- distributions of several runs (bench/catalogue.py, measure_interleaved)
  local quantiles = {}
  for k = 1, 1000 do
    quantiles[k] = string.format("%d", latency:percentile(k / 10))
  end
  io.write("BENCH_QUANTILES " .. table.concat(quantiles, " ") .. "\n")
end
