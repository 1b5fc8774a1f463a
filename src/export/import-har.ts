import { readFile } from 'node:fs/promises';
import { SessionRecorder } from '../store/recorder.js';
import { SessionError } from '../store/session-errors.js';
import { harToFlows } from './har-import.js';

export interface ImportResult {
  session: string;
  flows: number;
}

/**
 * `proxyctl import FILE.har`: a new session holding the HAR's entries, written by the same
 * recorder as live traffic (so it reads back, exports and serves like any other session).
 * An existing session of that name is refused (`SessionError` EXISTS), never mixed into.
 */
export async function importHarFile(home: string, file: string, session: string): Promise<ImportResult> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new SessionError('NOT_FOUND', `no file ${file}`);
    throw new SessionError('NOT_FOUND', `${file} is not JSON: ${e.message}`);
  }
  const flows = harToFlows(doc);
  const recorder = await SessionRecorder.open(home, session, { continue: false });
  try {
    for (const flow of flows) recorder.record(flow);
  } finally {
    await recorder.close();
  }
  return { session, flows: flows.length };
}
