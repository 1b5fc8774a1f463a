/** A throw-away Chromium profile: a fresh directory, removed after the browser exits. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempProfile {
  /** The directory to pass as `--user-data-dir`. */
  dir: string;
  /** Remove the directory and everything Chromium wrote into it. Idempotent. */
  remove(): Promise<void>;
}

/** @param parent where to create it. @default os.tmpdir() */
export async function makeTempProfile(parent: string = tmpdir()): Promise<TempProfile> {
  const dir = await mkdtemp(join(parent, 'proxyctl-chromium-'));
  return {
    dir,
    // Chromium may still be flushing a file when its main process exits; retries cover that.
    remove: () => rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 }),
  };
}
