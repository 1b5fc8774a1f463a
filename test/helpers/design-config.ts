/** The config file of DESIGN.md §7, verbatim except the `routes` placeholder `[...]`. */
export const DESIGN_CONFIG = `
listen: { host: 127.0.0.1, port: 8080 }
mode: regular                     # regular | reverse:URL[,URL] | upstream:URL | socks5
upstream: { insecure: false }
capture: { maxBodyBytes: 4194304 }
store: { maxFlows: 20000 }
cache: { enabled: false, maxBytes: 268435456 }
noCache: false                    # strip conditional/cache headers ("no caching" toggle)
proxyAuth: { users: [ { user: alice, password: secret } ], htpasswd: null }
access: { allow: [127.0.0.1/32, "::1/128"], deny: [] }
admin: { port: null }             # /healthz and /metrics (names prefixed proxyctl_)
accessLog: { format: text, file: null }
rules:
  - { type: block, filter: "~d ads.example", status: 403 }          # or action: drop
  - { type: breakpoint, filter: "~u /api/", on: [request, response], timeoutMs: null, onTimeout: continue }
  - { type: map-remote, filter: "~d api.example", to: "http://127.0.0.1:3000" }
  - { type: map-local, filter: "~u ^/static/", path: ./public }
  - { type: mock, filter: "~u /health$", status: 200, headers: { content-type: text/plain }, body: ok }
  - { type: rewrite, filter: "~s", part: response-header, match: "^x-powered-by$", replace: null }
  - { type: rate-limit, filter: "~d api.example", perSecond: 10, burst: 20 }
  - { type: throttle, filter: "~d cdn.example", latencyMs: 300, bytesPerSecond: 50000 }
  - { type: command, filter: "~u ^/transcode", argv: [ffmpeg, -i, pipe:0, -f, mp3, pipe:1], timeoutMs: 60000 }
reverse:                          # reverse mode only
  balance: round-robin            # round-robin | weighted | least-connections | ip-hash
  backends: [ { url: "http://127.0.0.1:3001", weight: 1 }, { url: "http://127.0.0.1:3002", weight: 1 } ]
  health: { path: /healthz, intervalMs: 2000, timeoutMs: 1000, unhealthyAfter: 2, healthyAfter: 2 }
  routes: [ { host: api.local, pathPrefix: /, backends: [ { url: "http://127.0.0.1:3003" } ] } ]
  tls: { enabled: false, certs: [ { serverName: api.local, cert: ./api.pem, key: ./api.key } ] }
`;
