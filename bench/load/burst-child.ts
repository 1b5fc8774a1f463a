/**
 * The new-hosts burst in a process of its own: twenty first requests at once (CONNECT, TLS, GET)
 * cost the client real CPU for their handshakes. Run in the process that also times the
 * background traffic, that CPU would delay the background's own event loop and show up as a
 * stall of the proxy. Started ahead of time; `go` runs the burst and answers with its outcome.
 *
 * argv: proxyPort originPort caPath name…
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dialTunnel } from './dial.js';
import { timeFirstRequest } from './first-request.js';
import { h1Request } from './sides.js';

export interface BurstOutcome {
  durationMs: number;
  errors: number;
}

const [proxyPort, originPort, caPath, ...names] = process.argv.slice(2);
const ca = readFileSync(caPath!, 'utf8');

async function burst(): Promise<BurstOutcome> {
  const t0 = performance.now();
  const results = await Promise.allSettled(
    names.map((name) =>
      timeFirstRequest(
        () => dialTunnel(Number(proxyPort), name, Number(originPort), { servername: name, ca, alpn: ['http/1.1'] }),
        h1Request('/small', `${name}:${originPort}`),
      ),
    ),
  );
  return { durationMs: performance.now() - t0, errors: results.filter((r) => r.status === 'rejected').length };
}

process.on('message', (m) => {
  if (m !== 'go') return;
  void burst().then((outcome) => {
    process.send!(outcome, () => process.exit(0));
  });
});
process.on('disconnect', () => process.exit(0));
process.send!('ready');
