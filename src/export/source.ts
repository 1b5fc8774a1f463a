import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Flow } from '../proxy/core/flow.js';
import { SessionError } from '../store/session-errors.js';
import { FLOWS_FILE, sessionDir } from '../store/session-paths.js';
import { readSessionDir, type ReadSessionOptions } from '../store/session-reader.js';
import { sessionNameSchema } from '../store/schemas.js';
import { harToFlows } from './har-import.js';

/** Where `export`, `serve` and `import` read flows from. */
export interface FlowSource {
  /** `memory`: flows already held (the TUI's store), see `memorySource`. */
  kind: 'session' | 'dir' | 'har' | 'memory';
  /** For messages: the session name, or the path as given. */
  label: string;
  /** The flows, streamed from a session (bodies loaded per flow), or parsed from a HAR file. */
  flows(opts?: ReadSessionOptions): AsyncIterable<Flow>;
}

/**
 * Resolve `NAME_OR_FILE`: a session name (`sessions/NAME` in the home), a session directory (one
 * holding `flows.jsonl`), or a `.har` file. Something that looks like a path (a slash, or a
 * `.har`/`.json` ending) is taken as one; a bare word is a session name first, then a path.
 */
export async function openSource(home: string, nameOrFile: string): Promise<FlowSource> {
  const looksLikePath = /[/\\]/.test(nameOrFile) || /\.(har|json)$/i.test(nameOrFile);
  if (!looksLikePath && sessionNameSchema.safeParse(nameOrFile).success) {
    const dir = sessionDir(home, nameOrFile);
    if (await isFile(`${dir}/${FLOWS_FILE}`)) return sessionSource('session', nameOrFile, dir);
  }
  const path = resolve(nameOrFile);
  const st = await stat(path).catch(() => null);
  if (st?.isDirectory()) {
    if (await isFile(`${path}/${FLOWS_FILE}`)) return sessionSource('dir', nameOrFile, path);
    throw new SessionError('NOT_FOUND', `${nameOrFile} is a directory without ${FLOWS_FILE}: not a session`);
  }
  if (st?.isFile()) return harSource(path, nameOrFile);
  throw new SessionError('NOT_FOUND', `no session or file named ${nameOrFile} (see \`proxyctl sessions list\`)`);
}

/** Flows already in memory (the TUI exports what its store holds, bodies as captured). */
export function memorySource(label: string, flows: readonly Flow[]): FlowSource {
  return {
    kind: 'memory',
    label,
    flows: async function* () {
      yield* flows;
    },
  };
}

function sessionSource(kind: 'session' | 'dir', label: string, dir: string): FlowSource {
  return { kind, label, flows: (opts) => readSessionDir(dir, opts) };
}

async function harSource(path: string, label: string): Promise<FlowSource> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new SessionError('NOT_FOUND', `${label}: not a HAR file (${err instanceof Error ? err.message : String(err)})`);
  }
  const flows = harToFlows(doc);
  return {
    kind: 'har',
    label: basename(label),
    flows: async function* () {
      yield* flows;
    },
  };
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}
