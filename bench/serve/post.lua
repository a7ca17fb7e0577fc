-- wrk script for bench/serve: each thread sends its own slice of the
-- pre-signed deliveries in FILE (lines: signature TAB delivery TAB body),
-- so no body repeats while the slice lasts.
--   wrk -s post.lua URL -- FILE THREADS
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local reqs, i = {}, 0
function init(args)
  local threads = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    if n % threads == id then
      local sig, delivery, body = line:match("^(%S+)\t(%S+)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", "/hooks/github", {
        ["Content-Type"] = "application/json",
        ["X-GitHub-Event"] = "code_scanning_alert",
        ["X-GitHub-Delivery"] = delivery,
        ["X-Hub-Signature-256"] = sig,
      }, body)
    end
    n = n + 1
  end
end

function request()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
