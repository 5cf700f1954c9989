-- wrk script for a fixed offered load: each connection waits a random think time before each
-- request, exponentially distributed with mean THINK_MS (integer milliseconds, wrk's timer
-- resolution), so requests arrive spread out, as from many independent users, rather than in the
-- lock-step bursts a constant delay gives. With C connections the load is about
-- C * 1000 / (THINK_MS + latency) requests per second; latency is measured from each send.
local mean = tonumber(os.getenv("THINK_MS") or "8")
function delay()
  return math.floor(-math.log(1 - math.random()) * mean + 0.5)
end
