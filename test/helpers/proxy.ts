/**
 * The real proxy, in process: a `Runtime` on 127.0.0.1, port 0, with the fixture CA (no key is ever
 * generated), a temporary `$PROXYCTL_HOME`, synchronous store notifications, and the origin test CA
 * trusted upstream unless a test says otherwise.
 *
 * Every proxy started here is tracked; call `stopAllProxies()` in afterEach so none outlives its test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { mergeSettings, startFlagsSchema } from '../../src/config/start-options.js';
import type { Flow } from '../../src/proxy/core/flow.js';
import type { ConfigFile } from '../../src/config/schema.js';
import type { ProxyOptions } from '../../src/proxy/net/options.js';
import { Runtime } from '../../src/runtime.js';
import { originCa } from './origin-certs.js';
import { loadFixtureCa } from './test-ca.js';
import { waitFor } from './wait.js';

/** `proxyctl start` flags as commander hands them over (strings for numbers), before zod. */
export type RawStartFlags = z.input<typeof startFlagsSchema>;

export interface StartProxyOptions {
  /** Start flags, as on the command line (`{ insecure: true }`, `{ maxBodyBytes: '1024' }` …). */
  flags?: Partial<RawStartFlags>;
  /** Low-level network overrides (short timeouts). */
  net?: Partial<ProxyOptions>;
  /**
   * Extra upstream trust anchors (PEM). @default [originCa.cert]
   * Pass `[]` to trust only Node's default store (the origin CA is then unknown).
   */
  upstreamCa?: string[];
  /** A parsed config file (rules, access, proxyAuth, cache …), as `--config` would give. */
  config?: ConfigFile;
  /** The config file's path: relative paths in it resolve against its folder, and it is watched. */
  configPath?: string;
}

export interface TestProxy {
  runtime: Runtime;
  /** `http://127.0.0.1:PORT`, for `curl -x`. */
  url: string;
  port: number;
  /** Flows in the store, oldest first. */
  flows(): Flow[];
  /** Wait until at least `n` flows are finished (phase done or error); resolves with all flows. */
  waitForFlows(n: number, timeoutMs?: number): Promise<Flow[]>;
  /** Wait for the first flow matching `pred` that is finished. */
  waitForFlow(pred: (f: Flow) => boolean, timeoutMs?: number): Promise<Flow>;
  /** Stop the runtime and remove the temporary home. Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<TestProxy>();

export function isFinished(f: Flow): boolean {
  return f.phase === 'done' || f.phase === 'error';
}

/** Start a proxy; stop it (or call `stopAllProxies()`) in afterEach. */
export async function startProxy(opts: StartProxyOptions = {}): Promise<TestProxy> {
  const home = await mkdtemp(join(tmpdir(), 'proxyctl-test-home-'));
  const extraCa = opts.upstreamCa ?? [originCa.cert];
  const settings = mergeSettings(startFlagsSchema.parse({ port: '0', tui: false, ...opts.flags }), opts.config ?? {});
  let runtime: Runtime;
  try {
    runtime = await Runtime.create({
      home,
      settings,
      ca: await loadFixtureCa(),
      // An empty list means "no extra anchors": Node's own default store, exactly as the CLI runs.
      upstreamCa: extraCa.length ? extraCa : undefined,
      ...(opts.net ? { net: opts.net } : {}),
      ...(opts.config ? { config: opts.config } : {}),
      ...(opts.configPath ? { configPath: opts.configPath } : {}),
      storeNotifyMs: 0,
    });
    await runtime.start();
  } catch (err) {
    await rm(home, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | null = null;
  const proxy: TestProxy = {
    runtime,
    url: runtime.url,
    port: runtime.port,
    flows: () => runtime.store.list(),
    async waitForFlows(n, timeoutMs = 5000) {
      await waitFor(() => runtime.store.list().filter(isFinished).length >= n, {
        timeoutMs,
        message: `${n} finished flow(s) (have: ${describeFlows(runtime.store.list())})`,
      });
      return runtime.store.list();
    },
    waitForFlow(pred, timeoutMs = 5000) {
      return waitFor(() => runtime.store.list().find((f) => isFinished(f) && pred(f)), {
        timeoutMs,
        message: 'a finished flow matching the predicate',
      }).catch((err: Error) => {
        throw new Error(`${err.message}; flows: ${describeFlows(runtime.store.list())}`);
      });
    },
    stop() {
      stopped ??= (async () => {
        running.delete(proxy);
        // Short deadline: a test that left a flow hanging must not stall the suite.
        await runtime.stop(500);
        await rm(home, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  running.add(proxy);
  return proxy;
}

/** Stop every proxy started by this module that is still running. */
export async function stopAllProxies(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** One line per flow, for failure messages. */
export function describeFlows(flows: Flow[]): string {
  if (!flows.length) return '(none)';
  return flows
    .map((f) => `${f.kind} ${f.request.method} ${f.request.scheme}://${f.request.host}:${f.request.port}${f.request.path} → ${f.response?.status ?? '-'} ${f.phase}${f.error ? ` ${f.error.code}` : ''}`)
    .join('; ');
}
