import { extname, join } from 'node:path';

export const EXPORT_FORMATS = ['har', 'curl', 'raw', 'nock', 'msw', 'vitest'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type Lang = 'js' | 'ts';
export type MockLibrary = 'msw' | 'nock';

/** One file to write, or stdout when `path` is null. */
export interface OutputFile {
  path: string | null;
  /** What goes in it. */
  content: 'har' | 'curl' | 'raw' | 'nock-json' | 'msw-module' | 'vitest-inline' | 'vitest-importing';
  lang: Lang;
}

export interface LayoutInput {
  format: ExportFormat;
  /** `-o PATH`, or null for stdout. */
  output: string | null;
  /** True when PATH exists and is a directory. */
  outputIsDir: boolean;
  /** `--lang`, when given. */
  lang: Lang | null;
  mock: MockLibrary;
  /** Base name for a file written into a directory (the session label). */
  label: string;
}

/**
 * Where an export goes (pure; the command checks the filesystem first):
 *
 *     -o omitted         stdout: one document (fixture formats: one self-contained module)
 *     -o FILE            that file; for msw and vitest the extension picks the language
 *                        (.ts → TypeScript; .js/.mjs → JavaScript)
 *     -o DIR             (an existing directory, a path ending in /, or one without extension)
 *       har|curl|raw       DIR/LABEL.har | DIR/LABEL.sh | DIR/LABEL.http
 *       nock               DIR/nock.json
 *       msw                DIR/handlers.(js|ts)
 *       vitest --mock msw  DIR/handlers.(js|ts) + DIR/recorded.test.(js|ts) importing it
 *       vitest --mock nock DIR/nock.json + DIR/recorded.test.(js|ts) reading it
 *
 * The language of a directory layout is `--lang` (default js).
 */
export function outputLayout(input: LayoutInput): OutputFile[] {
  const { format, output } = input;
  const ext = output ? extname(output).toLowerCase() : '';
  const isDir = output !== null && (input.outputIsDir || /[/\\]$/.test(output) || ext === '');
  const extLang: Lang | null = ext === '.ts' || ext === '.mts' ? 'ts' : ext === '.js' || ext === '.mjs' ? 'js' : null;
  const lang: Lang = (!isDir ? extLang : null) ?? input.lang ?? 'js';
  if (output === null || !isDir) {
    const path = output;
    switch (format) {
      case 'har':
      case 'curl':
      case 'raw':
        return [{ path, content: format, lang }];
      case 'nock':
        return [{ path, content: 'nock-json', lang }];
      case 'msw':
        return [{ path, content: 'msw-module', lang }];
      case 'vitest':
        return [{ path, content: 'vitest-inline', lang }];
    }
  }
  const dir = output;
  switch (format) {
    case 'har':
      return [{ path: join(dir, `${input.label}.har`), content: 'har', lang }];
    case 'curl':
      return [{ path: join(dir, `${input.label}.sh`), content: 'curl', lang }];
    case 'raw':
      return [{ path: join(dir, `${input.label}.http`), content: 'raw', lang }];
    case 'nock':
      return [{ path: join(dir, 'nock.json'), content: 'nock-json', lang }];
    case 'msw':
      return [{ path: join(dir, `handlers.${lang}`), content: 'msw-module', lang }];
    case 'vitest':
      return [
        input.mock === 'msw' ? { path: join(dir, `handlers.${lang}`), content: 'msw-module', lang } : { path: join(dir, 'nock.json'), content: 'nock-json', lang },
        { path: join(dir, `recorded.test.${lang}`), content: 'vitest-importing', lang },
      ];
  }
}
