import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { formatIssues } from '../config/schema.js';
import { settingsPath } from '../config/paths.js';
import { defaultSettings, sessionIndexEntrySchema, settingsSchema, type SessionIndexEntry, type Settings } from './schemas.js';

/** settings.json is not a valid settings document; the message names the file and the fields. */
export class SettingsError extends Error {
  override name = 'SettingsError';
  readonly code = 'SETTINGS_INVALID';
  constructor(
    message: string,
    readonly issues: string[],
  ) {
    super(message);
  }
}

/**
 * The small read-modify-write documents (DESIGN.md §9) in `$PROXYCTL_HOME/settings.json`: toggles,
 * rule specs and the session index, through lowdb, always read back through `settingsSchema`.
 *
 * lowdb is constructed explicitly (`new Low(new JSONFile(path), defaults)`): its `JSONFilePreset`
 * keeps data in memory when NODE_ENV=test, so a test through it would prove nothing (STYLE.md).
 *
 * Several processes may share the file (`proxyctl start` recording while `proxyctl sessions rm`
 * runs), so every `update` re-reads the file before changing it; writes are atomic (lowdb writes a
 * temporary file and renames it), and updates within one process are serialized.
 */
export class SettingsStore {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: Low<unknown>,
    /** The file behind the store. */
    readonly path: string,
    private current: Settings,
  ) {}

  /** Open (and validate) `settingsPath(home)`; a missing file means the defaults. */
  static async open(home: string): Promise<SettingsStore> {
    return SettingsStore.openFile(settingsPath(home));
  }

  static async openFile(path: string): Promise<SettingsStore> {
    const db = new Low<unknown>(new JSONFile<unknown>(path), defaultSettings());
    const store = new SettingsStore(db, path, defaultSettings());
    store.current = await store.load();
    return store;
  }

  /** The settings as last read or written (a snapshot; change them with `update`). */
  get settings(): Settings {
    return structuredClone(this.current);
  }

  /**
   * Re-read the file, apply `change` (mutate the draft or return a new document), validate, write.
   * Resolves with the settings written.
   */
  update(change: (draft: Settings) => Settings | void): Promise<Settings> {
    const run = async (): Promise<Settings> => {
      const draft = await this.load();
      const next = change(draft) ?? draft;
      const parsed = parse(next, `new settings for ${this.path}`);
      this.db.data = parsed;
      await mkdir(dirname(this.path), { recursive: true });
      await this.db.write();
      this.current = parsed;
      return structuredClone(parsed);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Re-read the file. */
  async reload(): Promise<Settings> {
    this.current = await this.load();
    return this.settings;
  }

  /** Session index entries, sorted by creation time. */
  sessions(): SessionIndexEntry[] {
    return Object.values(this.current.sessions).sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
  }

  putSession(entry: SessionIndexEntry): Promise<Settings> {
    const checked = sessionIndexEntrySchema.parse(entry);
    return this.update((s) => {
      s.sessions[checked.name] = checked;
    });
  }

  removeSession(name: string): Promise<Settings> {
    return this.update((s) => {
      delete s.sessions[name];
    });
  }

  /** Replace the rule specs; a bad spec is refused with the field named (nothing is written). */
  setRules(specs: unknown[]): Promise<Settings> {
    return this.update((s) => {
      s.rules = specs as Settings['rules'];
    });
  }

  setToggles(change: Partial<Settings['toggles']>): Promise<Settings> {
    return this.update((s) => {
      s.toggles = { ...s.toggles, ...change };
    });
  }

  private async load(): Promise<Settings> {
    this.db.data = defaultSettings();
    try {
      await this.db.read();
    } catch (err) {
      if (err instanceof SyntaxError) throw new SettingsError(`${this.path} is not valid JSON: ${err.message}`, [err.message]);
      throw err;
    }
    return parse(this.db.data, this.path);
  }
}

function parse(data: unknown, what: string): Settings {
  const parsed = settingsSchema.safeParse(data);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error as z.ZodError);
    throw new SettingsError(`${what}: ${issues.join('; ')}`, issues);
  }
  return parsed.data;
}
