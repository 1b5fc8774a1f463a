-- proxyctl bench: one request shape for wrk, set from the environment, and a machine-readable summary.
-- BENCH_PATH is the request target: "/small" to the origin, "http://127.0.0.1:PORT/small" through the
-- proxy (absolute form, as a forward proxy expects). BENCH_HOST is the Host header.
wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH") or "/"
wrk.headers["Host"] = os.getenv("BENCH_HOST")
wrk.headers["User-Agent"] = "proxyctl-bench"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\":%d,\"durationUs\":%d,\"bytes\":%d,\"socketErrors\":%d,\"statusErrors\":%d,\"p50Us\":%d,\"p99Us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
