import tls from 'node:tls';

let systemOnly: tls.SecureContext | null = null;
const withExtra = new WeakMap<readonly string[], tls.SecureContext>();

/**
 * The one TLS client context for connections to origins (HTTP/1.1 pool and HTTP/2 sessions): the
 * system roots, plus `--upstream-ca` when given. Without it `tls.connect` builds a context per
 * connection: ~0.3 ms of OpenSSL set-up on every new origin connection, and with extra CAs a
 * re-parse of ~140 bundled roots. Certificate checks stay per connection (`servername`,
 * `rejectUnauthorized` are socket options), and a context holds no client session cache, so
 * nothing is resumed across hosts by sharing it.
 */
export function originTrust(extraCa: readonly string[] | null): tls.SecureContext {
  if (!extraCa) return (systemOnly ??= tls.createSecureContext({}));
  let ctx = withExtra.get(extraCa);
  if (!ctx) {
    ctx = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCa] });
    withExtra.set(extraCa, ctx);
  }
  return ctx;
}
