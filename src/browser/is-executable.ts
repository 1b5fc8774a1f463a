/** The real file-system check `findChromium` is given: an existing regular file we may execute. */
import { accessSync, constants, statSync } from 'node:fs';

export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    // Missing, not executable, or unreadable: not a candidate, so the search goes on.
    return false;
  }
}
