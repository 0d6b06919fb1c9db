-- wrk script for benches/endpoint/run.sh: stops each thread after sending
-- MAX_REQUESTS requests (the run's count bound; -d is its time bound), and
-- prints one machine-readable line at the end:
--   RESULT requests duration_us p50_us p99_us max_us non2xx socket_errors bytes
-- It hooks request() (the request is formatted once, in init) rather than
-- response(), which would copy every body into Lua.

local max_requests = tonumber(os.getenv("MAX_REQUESTS") or "0")
local sent = 0
local req

function init(args)
    req = wrk.format()
end

function request()
    sent = sent + 1
    if max_requests > 0 and sent > max_requests then
        wrk.thread:stop()
    end
    return req
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %d %d %d %d %d %d %d %d\n",
        summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99), latency.max,
        e.status, e.connect + e.read + e.write + e.timeout, summary.bytes))
end
