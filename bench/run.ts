/**
 * `npm run bench`: proxyctl's benchmark. Starts its own origins on 127.0.0.1, runs each scenario
 * against a fresh proxy process (direct and proxied windows interleaved), prints a table with the
 * targets of issue 9, and writes bench/results/latest.json. Not part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs, USAGE, type BenchArgs } from './args.js';
import { ensureBuilt } from './build.js';
import { installSignalCleanup, rootScope } from './cleanup.js';
import { repoRoot } from './env.js';
import { WRK_INSTALL_HINT, wrkAvailable } from './load/wrk.js';
import { startOrigins, type Origins } from './origins.js';
import { startProxy } from './proxy-process.js';
import { renderNotes, renderTable, summarize, writeJson, type RunInfo, type ScenarioRecord } from './report.js';
import { scenarios } from './scenarios/index.js';
import type { BenchContext, Scenario } from './scenarios/types.js';
import { startTuiProxy } from './tui-process.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // Not a checkout (a tarball): the JSON just has no commit.
    return null;
  }
}

async function runScenario(s: Scenario, args: BenchArgs, origins: Origins, useWrk: boolean): Promise<ScenarioRecord> {
  // A child of the root scope, so Ctrl-C stops this scenario's proxies too.
  const scope = rootScope.child();
  const ctx: BenchContext = {
    quick: args.quick,
    origins,
    scope,
    useWrk,
    startProxy: (session, extra) => startProxy(scope, { session, cpuProfDir: args.cpuProfDir, args: extra ?? [] }),
    startTuiProxy: (session) => startTuiProxy(scope, { session, cpuProfDir: args.cpuProfDir }),
    log: (line) => log(line),
  };
  const budget = s.budgetMs(args.quick);
  const t0 = performance.now();
  log(`▶ ${s.name}: ${s.title} (bounded at ${Math.round(budget / 1000)} s)`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const output = await Promise.race([
      s.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`ran past its ${Math.round(budget / 1000)} s budget`)), budget);
      }),
    ]);
    return { name: s.name, title: s.title, durationMs: performance.now() - t0, error: null, output };
  } catch (err) {
    log(`✗ ${s.name}: ${(err as Error).stack ?? String(err)}`);
    return { name: s.name, title: s.title, durationMs: performance.now() - t0, error: (err as Error).message, output: null };
  } finally {
    clearTimeout(timer);
    // Closing the scope stops the proxies, which ends any connection a timed-out scenario left.
    await scope.close();
  }
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    log(`bench: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    log(USAGE);
    return 0;
  }
  if (args.list) {
    for (const s of scenarios) process.stdout.write(`${s.name.padEnd(12)} ${s.title}\n`);
    return 0;
  }
  const unknown = args.only.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length) {
    log(`bench: unknown scenario ${unknown.join(', ')} (see --list)`);
    return 2;
  }
  const selected = args.only.length ? scenarios.filter((s) => args.only.includes(s.name)) : scenarios;
  installSignalCleanup();
  const notes: string[] = [];
  if (args.build) {
    const note = ensureBuilt(log);
    if (note) notes.push(note);
  }
  if (args.cpuProfDir) {
    mkdirSync(args.cpuProfDir, { recursive: true });
    notes.push(`proxies ran with --cpu-prof; profiles in ${args.cpuProfDir} (profiling slows the proxy: figures are not comparable)`);
  }
  const useWrk = !args.noWrk && wrkAvailable();
  if (!useWrk && !args.noWrk) notes.push(`wrk is not installed (${WRK_INSTALL_HINT}): plain HTTP was driven by the Node client`);
  notes.push(`plain HTTP load: ${useWrk ? 'wrk' : 'Node client'}; HTTPS load: Node client (neither wrk nor h2load can CONNECT)`);
  if (args.quick) notes.push('--quick: short windows, two rounds, scaled-down soak scenarios; use the full run for figures');

  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  const t0 = performance.now();
  const origins = await startOrigins(rootScope);
  const records: ScenarioRecord[] = [];
  try {
    for (const s of selected) records.push(await runScenario(s, args, origins, useWrk));
  } finally {
    await rootScope.close();
  }

  const loadAtEnd = loadavg()[0]!;
  notes.push(
    `load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadAtEnd.toFixed(1)} at the end, on ${cpus().length} CPUs: other work on the machine slows every figure (CPU per request least)`,
  );
  const info: RunInfo = {
    mode: args.quick ? 'quick' : 'full',
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    node: process.version,
    cpus: cpus().length,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    commit: gitCommit(),
    plainLoadgen: useWrk ? 'wrk' : 'node',
    notes,
  };
  process.stdout.write(`\n${renderTable(records)}\n\n${renderNotes(info, records)}\n`);
  const sum = summarize(records);
  process.stdout.write(`\ntargets: ${sum.passed} passed, ${sum.failed} failed (run took ${Math.round(info.durationMs / 1000)} s)\n`);
  const out = args.out ?? join(repoRoot, 'bench', 'results', args.only.length ? 'partial.json' : args.quick ? 'latest-quick.json' : 'latest.json');
  writeJson(out, info, records);
  process.stdout.write(`results: ${out}\n`);
  return 0;
}

process.exitCode = await main();
