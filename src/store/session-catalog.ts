import type { Dirent } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { sessionsDir } from '../config/paths.js';
import { sessionNameSchema, type SessionIndexEntry } from './schemas.js';
import { SessionError } from './session-errors.js';
import { checkSessionName, flowsLogPath, sessionDir } from './session-paths.js';
import { sessionDiskUsage } from './session-scan.js';
import { SettingsStore } from './settings.js';

/**
 * The sessions on disk, reconciled with the session index in settings.json: the directories are
 * the truth, the index a cache of their counts. An entry whose log changed size since it was
 * written (a recorder killed between index writes, a session copied in by hand) is counted again
 * and saved; an entry whose directory is gone is dropped.
 */
export async function listSessions(home: string, settings?: SettingsStore): Promise<SessionIndexEntry[]> {
  const store = settings ?? (await SettingsStore.open(home));
  const index = store.settings.sessions;
  const names = await sessionDirNames(home);
  const out: SessionIndexEntry[] = [];
  const changed: SessionIndexEntry[] = [];
  for (const name of names) {
    const dir = sessionDir(home, name);
    const logSize = (await fileSize(flowsLogPath(dir))) ?? 0;
    const entry = index[name];
    if (entry && entry.logBytes === logSize) {
      out.push(entry);
      continue;
    }
    const usage = await sessionDiskUsage(dir);
    const fresh: SessionIndexEntry = {
      name,
      created: entry?.created ?? (await stat(dir)).birthtime.toISOString(),
      flowCount: usage.flowCount,
      bytes: usage.logBytes + usage.blobBytes,
      logBytes: usage.logBytes,
    };
    out.push(fresh);
    changed.push(fresh);
  }
  const gone = Object.keys(index).filter((n) => !names.includes(n));
  if (changed.length || gone.length) {
    await store.update((s) => {
      for (const e of changed) s.sessions[e.name] = e;
      for (const n of gone) delete s.sessions[n];
    });
  }
  return out.sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
}

/** True when `sessions/NAME` exists. */
export async function sessionExists(home: string, name: string): Promise<boolean> {
  return (await fileSize(sessionDir(home, name))) !== null;
}

/** Remove a session's directory and its index entry; NOT_FOUND when neither exists. */
export async function removeSession(home: string, name: string, settings?: SettingsStore): Promise<void> {
  checkSessionName(name);
  const store = settings ?? (await SettingsStore.open(home));
  const exists = await sessionExists(home, name);
  const indexed = name in store.settings.sessions;
  if (!exists && !indexed) throw new SessionError('NOT_FOUND', `no session named ${name}`);
  await rm(sessionDir(home, name), { recursive: true, force: true });
  await store.removeSession(name);
}

async function sessionDirNames(home: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(sessionsDir(home), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => e.isDirectory() && sessionNameSchema.safeParse(e.name).success).map((e) => e.name);
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

