/**
 * What the reverse proxy reports about one backend: the backends pane in the TUI and the
 * `proxyctl_backend_*` metrics read it (through `Runtime.backends()`).
 */
export interface BackendStatus {
  /** The group the backend belongs to (`default` for `--mode reverse:URL,…`). */
  group: string;
  /** The backend's base URL as configured, e.g. `http://127.0.0.1:3001`. */
  url: string;
  /** Relative weight for weighted round-robin. */
  weight: number;
  /** False while health checks (active or passive) consider it down: it gets no new requests. */
  healthy: boolean;
  /** Requests being served by it right now. */
  inFlight: number;
  /** Requests sent to it since start. */
  requests: number;
  /** Connection failures and 5xx responses since start (passive health input). */
  failures: number;
  /** Epoch ms of the last health state change, or null if it never changed. */
  since: number | null;
  /** Why it is unhealthy (last check's failure), or null. */
  reason: string | null;
}
