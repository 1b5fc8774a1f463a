/** Paths and the environment the bench gives the processes it starts. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const binPath = join(repoRoot, 'bin', 'proxyctl.js');
/** The proxy's pregenerated test CA (so a bench run never generates an RSA key). */
export const fixtureCa = { cert: join(repoRoot, 'fixtures', 'ca', 'ca.pem'), key: join(repoRoot, 'fixtures', 'ca', 'ca.key') };
/** The origin test PKI: the bench's HTTPS origin chains to this root; the proxy trusts it upstream. */
export const originCaPath = join(repoRoot, 'fixtures', 'origin', 'ca.pem');

const PROXY_VARS = /^(https?_proxy|all_proxy|no_proxy|ftp_proxy)$/i;

/** The environment without proxy variables (loopback traffic only), plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!PROXY_VARS.test(k)) env[k] = v;
  return { ...env, ...extra };
}
