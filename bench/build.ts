/**
 * bin/proxyctl.js runs dist/: rebuild it when any file under src/ is newer than dist/cli.js, so the
 * bench never measures stale code.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './env.js';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Returns a note for the report when something was rebuilt or the build complained. */
export function ensureBuilt(log: (line: string) => void): string | null {
  let built = 0;
  try {
    built = statSync(join(repoRoot, 'dist', 'cli.js')).mtimeMs;
  } catch {
    // No build yet.
  }
  if (built >= newestMtime(join(repoRoot, 'src'))) return null;
  log('dist/ is older than src/: building (tsc -p tsconfig.build.json)');
  const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status === 0) return 'dist/ was rebuilt before the run';
  // tsc still emits JavaScript when types are wrong; measure what was emitted, but say so.
  const first = (r.stdout || r.stderr || '').split('\n').slice(0, 5).join('\n');
  log(`build reported problems (measuring what it emitted):\n${first}`);
  return `the build reported type errors; dist/ was emitted anyway: ${first.split('\n')[0]}`;
}
