/**
 * The module boundaries of DESIGN.md §2, enforced: every `.ts`/`.tsx` under `src/` is parsed with the
 * TypeScript compiler (so comments and strings never count as imports), each import is resolved
 * against the importing file, and the rules below are checked. A self-test runs the checker over
 * in-memory files first, so this test is known to be able to fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

interface SourceText {
  /** Repository-relative POSIX path, e.g. `src/proxy/core/flow.ts`. */
  path: string;
  text: string;
}

interface ImportRef {
  specifier: string;
  line: number;
  /** `import type …` / `export type … from` / `typeof import('…')`: erased at run time, still a dependency. */
  typeOnly: boolean;
}

type RuleId = 'core-no-io' | 'no-ui-in-core' | 'core-layering' | 'rules-filter-only-core' | 'net-layering' | 'tui-layering' | 'runtime-wiring';

interface Violation {
  file: string;
  line: number;
  specifier: string;
  rule: RuleId;
}

const RULE_TEXT: Record<RuleId, string> = {
  'core-no-io': 'src/proxy/core/ (and rules/, filter/) import no Node IO module (net, tls, http, https, http2, dgram, fs, child_process, dns, worker_threads …)',
  'no-ui-in-core': 'src/proxy/core/, rules/ and filter/ import no React or Ink',
  'core-layering': 'src/proxy/core/ imports nothing from src/store, src/tui, src/proxy/net, src/ca or src/runtime.ts',
  'rules-filter-only-core': 'src/proxy/rules/ and src/proxy/filter/ import only src/proxy/core/ and their own folder (rules may also import the filter)',
  'net-layering': 'src/proxy/net/ never imports src/tui or src/store',
  'tui-layering': 'src/tui/ never imports src/proxy/net or src/ca',
  'runtime-wiring': 'only src/runtime.ts, src/cli.ts and src/commands/ may import src/runtime.ts',
};

/** Node built-ins that do IO (sockets, files, processes, threads, terminals). */
const IO_BUILTINS = new Set([
  'net',
  'tls',
  'http',
  'https',
  'http2',
  'dgram',
  'fs',
  'fs/promises',
  'child_process',
  'dns',
  'dns/promises',
  'worker_threads',
  'cluster',
  'readline',
  'readline/promises',
  'tty',
  'inspector',
  'repl',
]);
const BUILTINS = new Set(builtinModules);
const UI_PACKAGES = /^(react|react-dom|ink|ink-[\w-]+|@inkjs\/.+)$/;

// --- parsing ------------------------------------------------------------------------------------

function findImports(file: SourceText): ImportRef[] {
  const kind = file.path.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, kind);
  const out: ImportRef[] = [];
  const add = (node: ts.Node, spec: ts.Expression | ts.TypeNode | undefined, typeOnly: boolean) => {
    let text: string | undefined;
    if (spec && (ts.isStringLiteral(spec) || ts.isNoSubstitutionTemplateLiteral(spec))) text = spec.text;
    else if (spec && ts.isLiteralTypeNode(spec) && ts.isStringLiteral(spec.literal)) text = spec.literal.text;
    if (text === undefined) return; // a computed import('…' + x) cannot be checked statically
    out.push({ specifier: text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      // Only a whole-statement `import type` is erased under verbatimModuleSyntax.
      add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node)) {
      add(node, node.argument, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

// --- classification -----------------------------------------------------------------------------

type Zone = 'core' | 'rules' | 'filter' | 'net' | 'store' | 'tui' | 'ca' | 'runtime' | 'cli' | 'commands' | 'other';

type Target = { kind: 'internal'; zone: Zone; module: string } | { kind: 'builtin'; name: string } | { kind: 'package'; name: string };

const ZONES: Array<[string, Zone]> = [
  ['src/proxy/core', 'core'],
  ['src/proxy/rules', 'rules'],
  ['src/proxy/filter', 'filter'],
  ['src/proxy/net', 'net'],
  ['src/store', 'store'],
  ['src/tui', 'tui'],
  ['src/ca', 'ca'],
  ['src/commands', 'commands'],
];

/** `src/x/y.ts` → `src/x/y`; `src/x/index.js` → `src/x` (a folder import is the folder). */
function modulePath(path: string): string {
  return path.replace(/\.(d\.ts|[mc]?[jt]sx?)$/, '').replace(/\/index$/, '');
}

function zoneOf(module: string): Zone {
  if (module === 'src/runtime') return 'runtime';
  if (module === 'src/cli') return 'cli';
  for (const [prefix, zone] of ZONES) if (module === prefix || module.startsWith(`${prefix}/`)) return zone;
  return 'other';
}

function resolveTarget(fromPath: string, specifier: string): Target {
  if (specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..') {
    const module = modulePath(posix.normalize(posix.join(posix.dirname(fromPath), specifier)));
    return { kind: 'internal', zone: zoneOf(module), module };
  }
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  if (specifier.startsWith('node:') || BUILTINS.has(bare)) return { kind: 'builtin', name: bare };
  const parts = specifier.split('/');
  return { kind: 'package', name: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]! };
}

// --- the rules ----------------------------------------------------------------------------------

function ruleBroken(from: Zone, target: Target): RuleId | null {
  const pure = from === 'core' || from === 'rules' || from === 'filter';
  if (target.kind === 'builtin') return pure && IO_BUILTINS.has(target.name) ? 'core-no-io' : null;
  if (target.kind === 'package') return pure && UI_PACKAGES.test(target.name) ? 'no-ui-in-core' : null;
  const to = target.zone;
  if (to === 'runtime' && from !== 'runtime' && from !== 'cli' && from !== 'commands') return 'runtime-wiring';
  switch (from) {
    case 'core':
      return to === 'store' || to === 'tui' || to === 'net' || to === 'ca' || to === 'runtime' ? 'core-layering' : null;
    case 'rules':
      return to === 'core' || to === 'rules' || to === 'filter' ? null : 'rules-filter-only-core';
    case 'filter':
      return to === 'core' || to === 'filter' ? null : 'rules-filter-only-core';
    case 'net':
      return to === 'tui' || to === 'store' ? 'net-layering' : null;
    case 'tui':
      return to === 'net' || to === 'ca' ? 'tui-layering' : null;
    default:
      return null;
  }
}

function checkImports(files: readonly SourceText[]): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const from = zoneOf(modulePath(file.path));
    for (const ref of findImports(file)) {
      const rule = ruleBroken(from, resolveTarget(file.path, ref.specifier));
      if (rule) out.push({ file: file.path, line: ref.line, specifier: ref.specifier, rule });
    }
  }
  return out;
}

function describeViolation(v: Violation, typeOnly = false): string {
  return `${v.file}:${v.line} imports '${v.specifier}'${typeOnly ? ' (type-only)' : ''}: breaks "${RULE_TEXT[v.rule]}" [${v.rule}]`;
}

// --- the self-test ------------------------------------------------------------------------------

describe('import-rule checker (self-test on fake files)', () => {
  it('finds every form of import, with line numbers, and ignores comments and strings', () => {
    const refs = findImports({
      path: 'src/x.ts',
      text: [
        `import a from 'a';`, // 1
        `import {`, // 2
        `  b,`,
        `  type C,`,
        `} from "b";`,
        `import type { D } from 'd';`, // 6
        `import 'side-effect';`, // 7
        `export * from './e.js';`, // 8
        `export type { F } from './f.js';`, // 9
        `const g = await import('./g.js');`, // 10
        `type H = typeof import('./h.js');`, // 11
        `// import nope from 'in-a-comment';`,
        `/* export * from 'in-a-block-comment'; */`,
        `const s = "import('in-a-string')";`,
        'const t = `import x from "in-a-template"`;',
        `const dyn = import(name);`,
      ].join('\n'),
    });
    expect(refs).toEqual([
      { specifier: 'a', line: 1, typeOnly: false },
      { specifier: 'b', line: 2, typeOnly: false },
      { specifier: 'd', line: 6, typeOnly: true },
      { specifier: 'side-effect', line: 7, typeOnly: false },
      { specifier: './e.js', line: 8, typeOnly: false },
      { specifier: './f.js', line: 9, typeOnly: true },
      { specifier: './g.js', line: 10, typeOnly: false },
      { specifier: './h.js', line: 11, typeOnly: true },
    ]);
  });

  it.each<[string, string, string, RuleId | null]>([
    // [importing file, specifier, what it shows, rule broken or null]
    ['src/proxy/core/a.ts', 'node:net', 'IO built-in', 'core-no-io'],
    ['src/proxy/core/a.ts', 'fs', 'IO built-in without node:', 'core-no-io'],
    ['src/proxy/core/a.ts', 'node:fs/promises', 'IO built-in subpath', 'core-no-io'],
    ['src/proxy/core/a.ts', 'node:http2', 'IO built-in', 'core-no-io'],
    ['src/proxy/core/a.ts', 'node:child_process', 'IO built-in', 'core-no-io'],
    ['src/proxy/core/a.ts', 'node:crypto', 'non-IO built-in', null],
    ['src/proxy/core/a.ts', 'node:zlib', 'non-IO built-in', null],
    ['src/proxy/core/a.ts', 'buffer', 'non-IO built-in without node:', null],
    ['src/proxy/core/a.ts', 'node:util', 'non-IO built-in', null],
    ['src/proxy/core/a.ts', 'node:events', 'non-IO built-in', null],
    ['src/proxy/core/a.ts', 'react', 'React', 'no-ui-in-core'],
    ['src/proxy/core/a.ts', 'ink', 'Ink', 'no-ui-in-core'],
    ['src/proxy/core/a.ts', 'react/jsx-runtime', 'React subpath', 'no-ui-in-core'],
    ['src/proxy/core/a.ts', './flow.js', 'own folder', null],
    ['src/proxy/core/a.ts', '../../store/flow-store.js', 'store', 'core-layering'],
    ['src/proxy/core/a.ts', '../../store/index.js', 'store folder', 'core-layering'],
    ['src/proxy/core/a.ts', '../../tui/app.js', 'tui', 'core-layering'],
    ['src/proxy/core/a.ts', '../net/h1.js', 'net', 'core-layering'],
    ['src/proxy/core/sub/a.ts', '../../net/h1.js', 'net from a subfolder', 'core-layering'],
    ['src/proxy/core/a.ts', '../../ca/leaf.js', 'ca', 'core-layering'],
    ['src/proxy/core/a.ts', '../../runtime.js', 'runtime', 'runtime-wiring'],
    ['src/proxy/core/a.ts', '../bus.js', 'bus (not forbidden for core)', null],
    ['src/proxy/rules/block.ts', '../core/pipeline.js', 'core', null],
    ['src/proxy/rules/block.ts', './shared.js', 'own folder', null],
    ['src/proxy/rules/block.ts', '../filter/compile.js', 'the filter language', null],
    ['src/proxy/rules/block.ts', '../../config/schema.js', 'config', 'rules-filter-only-core'],
    ['src/proxy/rules/block.ts', '../bus.js', 'bus', 'rules-filter-only-core'],
    ['src/proxy/rules/block.ts', '../net/upstream.js', 'net', 'rules-filter-only-core'],
    ['src/proxy/rules/block.ts', 'node:dns', 'IO built-in', 'core-no-io'],
    ['src/proxy/rules/block.ts', 'ink', 'Ink', 'no-ui-in-core'],
    ['src/proxy/filter/parse.ts', '../core/flow.js', 'core', null],
    ['src/proxy/filter/parse.ts', '../rules/block.js', 'rules', 'rules-filter-only-core'],
    ['src/proxy/filter/parse.ts', '../../store/flow-store.js', 'store', 'rules-filter-only-core'],
    ['src/proxy/filter/parse.ts', 'node:fs', 'IO built-in', 'core-no-io'],
    ['src/proxy/net/h1.ts', 'node:net', 'IO is its job', null],
    ['src/proxy/net/h1.ts', '../../store/flow-store.js', 'store', 'net-layering'],
    ['src/proxy/net/h1.ts', '../../tui/app.js', 'tui', 'net-layering'],
    ['src/proxy/net/h1.ts', '../../ca/index.js', 'ca', null],
    ['src/tui/app.tsx', '../proxy/net/h1.js', 'net', 'tui-layering'],
    ['src/tui/app.tsx', '../ca/leaf.js', 'ca', 'tui-layering'],
    ['src/tui/app.tsx', '../store/flow-store.js', 'store', null],
    ['src/tui/app.tsx', 'ink', 'Ink is its job', null],
    ['src/tui/app.tsx', '../runtime.js', 'runtime', 'runtime-wiring'],
    ['src/export/har.ts', '../runtime.js', 'runtime', 'runtime-wiring'],
    ['src/store/recorder.ts', '../runtime', 'runtime without extension', 'runtime-wiring'],
    ['src/commands/start.ts', '../runtime.js', 'runtime', null],
    ['src/cli.ts', './runtime.js', 'runtime', null],
    ['src/runtime.ts', './proxy/net/proxy-server.js', 'anything', null],
    ['src/proxy/net/h1.ts', '../../runtime-helpers.js', 'a name that only starts like runtime', null],
    ['src/proxy/core/a.ts', '../../storage/x.js', 'a folder that only starts like store', null],
  ])('%s importing %s (%s)', (path, specifier, _shows, rule) => {
    const violations = checkImports([{ path, text: `import x from '${specifier}';\n` }]);
    expect(violations).toEqual(rule ? [{ file: path, line: 1, specifier, rule }] : []);
  });

  it('counts type-only imports, re-exports and dynamic imports too', () => {
    const file: SourceText = {
      path: 'src/proxy/core/bad.ts',
      text: [
        `import type { Socket } from 'node:net';`,
        `export { FlowStore } from '../../store/flow-store.js';`,
        `export async function later() { return import('../../tui/app.js'); }`,
        `// import tls from 'node:tls'; — a comment, not an import`,
      ].join('\n'),
    };
    expect(checkImports([file]).map((v) => [v.line, v.rule])).toEqual([
      [1, 'core-no-io'],
      [2, 'core-layering'],
      [3, 'core-layering'],
    ]);
  });

  it('names the file, the import and the rule in its message', () => {
    const [v] = checkImports([{ path: 'src/proxy/core/x.ts', text: `\nimport net from 'node:net';` }]);
    expect(describeViolation(v!)).toBe(
      `src/proxy/core/x.ts:2 imports 'node:net': breaks "${RULE_TEXT['core-no-io']}" [core-no-io]`,
    );
  });
});

// --- the real tree ------------------------------------------------------------------------------

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(): SourceText[] {
  const entries = readdirSync(`${repoRoot}src`, { recursive: true, encoding: 'utf8' });
  return entries
    .map((e) => e.split('\\').join('/'))
    .filter((e) => /\.tsx?$/.test(e))
    .sort()
    .map((e) => ({ path: `src/${e}`, text: readFileSync(`${repoRoot}src/${e}`, 'utf8') }));
}

describe('src/ keeps the module boundaries of DESIGN.md §2', () => {
  const files = sourceFiles();

  it('scans the tree (not an empty directory)', () => {
    expect(files.length).toBeGreaterThan(5);
    expect(files.some((f) => f.path.startsWith('src/proxy/core/'))).toBe(true);
  });

  it('breaks no import rule', () => {
    const typeOnly = new Set<string>();
    for (const f of files) for (const r of findImports(f)) if (r.typeOnly) typeOnly.add(`${f.path}:${r.line}`);
    const found = checkImports(files).map((v) => describeViolation(v, typeOnly.has(`${v.file}:${v.line}`)));
    expect(found).toEqual([]);
  });
});
