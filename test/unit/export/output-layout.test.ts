import { describe, expect, it } from 'vitest';
import { outputLayout, type LayoutInput } from '../../../src/export/output-layout.js';

const base: LayoutInput = { format: 'har', output: null, outputIsDir: false, lang: null, mock: 'msw', label: 'demo' };

describe('export output layout', () => {
  it.each<[string, Partial<LayoutInput>, Array<[string | null, string, string]>]>([
    ['har to stdout', {}, [[null, 'har', 'js']]],
    ['har to a file', { output: 'out.har' }, [['out.har', 'har', 'js']]],
    ['har into an existing directory', { output: 'out', outputIsDir: true }, [['out/demo.har', 'har', 'js']]],
    ['curl into a directory', { format: 'curl', output: 'out/' }, [['out/demo.sh', 'curl', 'js']]],
    ['nock to a file', { format: 'nock', output: 'mocks.json' }, [['mocks.json', 'nock-json', 'js']]],
    ['nock into a directory', { format: 'nock', output: 'fixtures' }, [['fixtures/nock.json', 'nock-json', 'js']]],
    ['msw: the extension picks TypeScript', { format: 'msw', output: 'handlers.ts' }, [['handlers.ts', 'msw-module', 'ts']]],
    ['msw: .mjs is JavaScript', { format: 'msw', output: 'h.mjs', lang: 'ts' }, [['h.mjs', 'msw-module', 'js']]],
    ['msw into a directory with --lang ts', { format: 'msw', output: 'fx', lang: 'ts' }, [['fx/handlers.ts', 'msw-module', 'ts']]],
    ['vitest to one self-contained file', { format: 'vitest', output: 'api.test.ts' }, [['api.test.ts', 'vitest-inline', 'ts']]],
    ['vitest to stdout', { format: 'vitest' }, [[null, 'vitest-inline', 'js']]],
    [
      'vitest (msw) into a directory',
      { format: 'vitest', output: 'fx' },
      [
        ['fx/handlers.js', 'msw-module', 'js'],
        ['fx/recorded.test.js', 'vitest-importing', 'js'],
      ],
    ],
    [
      'vitest (nock) into a directory, TypeScript',
      { format: 'vitest', output: 'fx', mock: 'nock', lang: 'ts' },
      [
        ['fx/nock.json', 'nock-json', 'ts'],
        ['fx/recorded.test.ts', 'vitest-importing', 'ts'],
      ],
    ],
  ])('%s', (_what, input, expected) => {
    expect(outputLayout({ ...base, ...input }).map((f) => [f.path, f.content, f.lang])).toEqual(expected);
  });
});
