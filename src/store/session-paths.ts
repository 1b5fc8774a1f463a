import { join } from 'node:path';
import { sessionsDir } from '../config/paths.js';
import { SessionError } from './session-errors.js';
import { sessionNameSchema } from './schemas.js';

/**
 * The on-disk layout of a session (DESIGN.md §9):
 *
 *     sessions/NAME/flows.jsonl        one JSON line per finished flow (schemas.ts storedFlowSchema)
 *     sessions/NAME/blobs/<sha256>     body bytes, content-addressed, written once
 */
export const FLOWS_FILE = 'flows.jsonl';
export const BLOBS_DIR = 'blobs';

/** Refuse a name that is not a plain path segment (`../x`, `a/b`, empty …). */
export function checkSessionName(name: string): string {
  const parsed = sessionNameSchema.safeParse(name);
  if (!parsed.success) throw new SessionError('BAD_NAME', `invalid session name ${JSON.stringify(name)}: ${parsed.error.issues[0]!.message}`);
  return name;
}

export function sessionDir(home: string, name: string): string {
  return join(sessionsDir(home), checkSessionName(name));
}

export function flowsLogPath(dir: string): string {
  return join(dir, FLOWS_FILE);
}

export function blobsDir(dir: string): string {
  return join(dir, BLOBS_DIR);
}

export function blobPath(dir: string, hash: string): string {
  // The hash comes from a zod-checked record or from our own hashing: 64 hex digits, never a path.
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new SessionError('CORRUPT_LINE', `not a blob name: ${JSON.stringify(hash)}`);
  return join(dir, BLOBS_DIR, hash);
}

/** The default session name: the local start time, `2026-11-22_00-50-12`. */
export function defaultSessionName(date: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}_${p(date.getHours())}-${p(date.getMinutes())}-${p(date.getSeconds())}`;
}
