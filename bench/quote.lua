-- wrk script for bench/quote.py.
--
--   wrk ... -s bench/quote.lua URL -- IDS_FILE TOKEN_FILE THREADS
--
-- POST /api/v1/journeys/<id>/quotes with "Authorization: Bearer <token>" (the first
-- line of TOKEN_FILE), for the journey ids listed in IDS_FILE (one a line). Thread k of THREADS takes every THREADS-th id and
-- goes round them in turn from a random one, so two threads never quote the same
-- journey, and within a thread a journey comes round again only after all the
-- thread's other ids: with more ids per thread than connections per thread, no two
-- quotes of one journey (which would clash on its version number, HTTP 409) are in
-- flight at once.
--
-- setup(), response() and done() (every response outside 200-299 counted, the
-- "BENCH non2xx=... first_status=..." line) come from catalogue.lua; wrk runs with the
-- repository root as its working directory.

dofile("bench/catalogue.lua")

local ids, index, headers

function init(args)
  local threads = tonumber(args[3])
  if not args[1] or not args[2] or not threads or threads < 1 then
    error("arguments: IDS_FILE TOKEN_FILE THREADS")
  end
  local all = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      all[#all + 1] = line
    end
  end
  local mine = (thread_no or 1) - 1
  ids = {}
  for i, id in ipairs(all) do
    if (i - 1) % threads == mine % threads then
      ids[#ids + 1] = id
    end
  end
  if #ids == 0 then
    error("no journey ids for thread " .. mine .. " in " .. args[1])
  end
  math.randomseed(os.time() * 1000 + mine * 7919)
  index = math.random(#ids)
  local token = io.lines(args[2])()
  if not token or #token == 0 then
    error("no token in " .. args[2])
  end
  headers = {["Authorization"] = "Bearer " .. token}
end

function request()
  index = index % #ids + 1
  return wrk.format("POST", "/api/v1/journeys/" .. ids[index] .. "/quotes", headers, "")
end
