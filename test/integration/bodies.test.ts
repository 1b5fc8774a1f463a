/**
 * Bodies stream, they are not buffered (DESIGN.md §1.3): a 1 GiB download passes with bounded
 * proxy memory, and what the flow keeps is capped at `maxBodyBytes` with the whole body's size and
 * hash.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, curlRequest } from '../helpers/curl.js';
import { originBytes, originBytesSha256, startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies } from '../helpers/proxy.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface PipedDownload {
  status: number;
  size: number;
  sha256: string;
  stderr: string;
  code: number | null;
}

/**
 * `curl -x PROXY URL | sha256sum` in a shell: curl and the hashing run in other processes, so this
 * process (origin + proxy) is what the memory samples measure.
 */
function downloadAndHash(proxyUrl: string, url: string, timeoutMs: number): Promise<PipedDownload> {
  return new Promise((resolve, reject) => {
    const script = 'set -o pipefail; curl -q --silent --show-error --max-time "$T" --proxy "$P" --write-out "%{stderr}RESULT %{http_code} %{size_download}\\n" -- "$U" | sha256sum';
    const child = spawn('bash', ['-c', script], {
      env: cleanEnv({ T: String(timeoutMs / 1000), P: proxyUrl, U: url }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2000);
    child.on('error', (e) => {
      clearTimeout(killer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      const m = /RESULT (\d+) (\d+)/.exec(err);
      resolve({ status: Number(m?.[1] ?? 0), size: Number(m?.[2] ?? -1), sha256: out.split(/\s/)[0] ?? '', stderr: err, code });
    });
  });
}

describe('bodies', () => {
  let origin: Origin | undefined;

  afterEach(async () => {
    await stopAllProxies();
    await origin?.close();
    origin = undefined;
  });

  it('streams a 1 GiB download with bounded memory; the flow keeps 4 MiB, the full size and hash', { timeout: 60_000 }, async () => {
    origin = await startOrigin();
    const proxy = await startProxy();
    // Computed first, so the hashing's own garbage is not counted against the proxy.
    const expectedSha = originBytesSha256(GiB);
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 100);
    let result: PipedDownload;
    try {
      result = await downloadAndHash(proxy.url, `${origin.url}/bytes/${GiB}`, 45_000);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(result.code, result.stderr).toBe(0);
    expect(result.status).toBe(200);
    expect(result.size).toBe(GiB);
    expect(result.sha256).toBe(expectedSha);
    const growthMb = (peak - baseline) / MiB;
    expect(growthMb, `RSS grew by ${growthMb.toFixed(1)} MB`).toBeLessThan(200);

    const [flow] = await proxy.waitForFlows(1);
    const body = flow!.response!.body;
    expect(flow!.phase).toBe('done');
    expect(body.size).toBe(GiB);
    expect(body.truncated).toBe(true);
    expect(body.bytes?.length).toBe(4 * MiB);
    expect(body.bytes?.equals(originBytes(4 * MiB))).toBe(true);
    expect(body.sha256).toBe(expectedSha);
    expect(body.state).toBe('complete');
  });

  it('captures a small body whole', async () => {
    origin = await startOrigin();
    const proxy = await startProxy();
    const res = await curlRequest(`${origin.url}/bytes/1000`, { proxy: proxy.url });
    expect(res.status).toBe(200);
    const [flow] = await proxy.waitForFlows(1);
    const body = flow!.response!.body;
    expect(body.size).toBe(1000);
    expect(body.truncated).toBe(false);
    expect(body.bytes?.equals(originBytes(1000))).toBe(true);
    expect(body.state).toBe('complete');
  });

  it('--max-body-bytes changes the cap, for responses and requests', async () => {
    origin = await startOrigin();
    const proxy = await startProxy({ flags: { maxBodyBytes: '1024' } });
    const down = await curlRequest(`${origin.url}/bytes/5000`, { proxy: proxy.url });
    expect(down.status).toBe(200);
    expect(down.body.equals(originBytes(5000))).toBe(true);
    const upload = randomBytes(3000);
    const up = await curlRequest(`${origin.url}/echo`, { proxy: proxy.url, method: 'POST', data: upload });
    expect(up.body.equals(upload)).toBe(true);

    const [first, second] = await proxy.waitForFlows(2);
    const resBody = first!.response!.body;
    expect(resBody.size).toBe(5000);
    expect(resBody.truncated).toBe(true);
    expect(resBody.bytes?.equals(originBytes(1024))).toBe(true);
    expect(resBody.sha256).toBe(originBytesSha256(5000));

    const reqBody = second!.request.body;
    expect(reqBody.size).toBe(3000);
    expect(reqBody.truncated).toBe(true);
    expect(reqBody.bytes?.equals(upload.subarray(0, 1024))).toBe(true);
    expect(reqBody.sha256).toBe(createHash('sha256').update(upload).digest('hex'));
  });
});
