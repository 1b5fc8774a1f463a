/**
 * `$PROXYCTL_HOME/instance.json`: where a running `proxyctl start` listens, so other commands
 * (`proxyctl browser`) find it without flags. The running proxy writes it and removes it on exit.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const INSTANCE_FILE = 'instance.json';

export const instanceSchema = z.object({
  /** `http://HOST:PORT` of the listener. */
  url: z.url({ protocol: /^https?$/ }),
  /** The proxy's process id. */
  pid: z.number().int().positive(),
  /** ISO 8601 start time. */
  startedAt: z.iso.datetime({ offset: true }),
});

export type Instance = z.infer<typeof instanceSchema>;

export function instancePath(home: string): string {
  return join(home, INSTANCE_FILE);
}

export type InstanceLookup =
  | { state: 'running'; instance: Instance }
  /** No file: no proxy is running from this home (or an older one that does not write it). */
  | { state: 'none' }
  /** A file whose process is gone (killed before it could remove the file). */
  | { state: 'stale'; instance: Instance }
  /** A file that is not valid JSON of the expected shape; `problem` says why. */
  | { state: 'invalid'; problem: string };

export interface ReadInstanceOptions {
  /** True when a process with this id exists. @default signal 0 via process.kill */
  isAlive?: (pid: number) => boolean;
}

/** Read and check `instance.json`; never throws for a missing, stale or malformed file. */
export async function readInstance(home: string, opts: ReadInstanceOptions = {}): Promise<InstanceLookup> {
  let text: string;
  try {
    text = await readFile(instancePath(home), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'none' };
    return { state: 'invalid', problem: (err as Error).message };
  }
  return parseInstance(text, opts.isAlive ?? processExists);
}

/** The decision part of `readInstance`, over the file's text. */
export function parseInstance(text: string, isAlive: (pid: number) => boolean): InstanceLookup {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { state: 'invalid', problem: `not JSON: ${(err as Error).message}` };
  }
  const parsed = instanceSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { state: 'invalid', problem: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return isAlive(parsed.data.pid) ? { state: 'running', instance: parsed.data } : { state: 'stale', instance: parsed.data };
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user; only ESRCH means it is gone.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
