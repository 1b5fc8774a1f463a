import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DESIGN_CONFIG } from '../../helpers/design-config.js';
import { compileRules, orderAddons, pipelineOrder, RuleCompileError, type CompiledRule } from '../../../src/config/compile-rules.js';
import { ruleSchema, type RuleSpec } from '../../../src/config/schema.js';
import type { Addon, HookContext } from '../../../src/proxy/core/pipeline.js';
import { makeFlow } from '../../helpers/make-flow.js';

/** The rules of the DESIGN.md §7 config file. */
const DESIGN_RULES = (parseYaml(DESIGN_CONFIG) as { rules: unknown[] }).rules;
/** Rule specs from a list, or from YAML text of one. */
const specs = (rules: unknown[] | string): RuleSpec[] => (typeof rules === 'string' ? (parseYaml(rules) as unknown[]) : rules).map((r) => ruleSchema.parse(r));
const baseDir = resolve('/etc/proxyctl');

const ctx: HookContext = { log: () => {}, throttle: () => {}, transformRequestBody: () => {}, transformResponseBody: () => {}, observeResponseBody: () => {} };

describe('compileRules', () => {
  const rules = compileRules(specs(DESIGN_RULES), { baseDir });

  it('compiles every rule of DESIGN.md §7, in order, explaining each', () => {
    expect(rules.map((r) => [r.index, r.spec.type, r.explain])).toEqual([
      [0, 'block', 'block ~d ads.example with 403'],
      [1, 'breakpoint', 'breakpoint ~u /api/ on request and response'],
      [2, 'map-remote', 'map-remote ~d api.example → http://127.0.0.1:3000'],
      [3, 'map-local', `map-local ~u ^/static/ → ${resolve(baseDir, 'public')}`],
      [4, 'mock', 'mock ~u /health$ → 200 text/plain (2 bytes)'],
      [5, 'rewrite', 'rewrite response-header ~s: remove headers /^x-powered-by$/'],
      [6, 'rate-limit', 'rate-limit ~d api.example to 10/s per client (burst 20)'],
      [7, 'throttle', 'throttle ~d cdn.example: +300 ms, 48.8 KiB/s'],
      [8, 'command', 'command ~u ^/transcode → ffmpeg -i pipe:0 -f mp3 pipe:1 (timeout 60 s)'],
    ]);
    expect(rules.map((r) => r.addon?.name ?? null)).toEqual([
      'rules[0] block',
      null,
      'rules[2] map-remote',
      'rules[3] map-local',
      'rules[4] mock',
      'rules[5] rewrite',
      'rules[6] rate-limit',
      'rules[7] throttle',
      'rules[8] command',
    ]);
  });

  it('turns a breakpoint rule into a Breakpoint labelled with its place and filter', () => {
    const bp = rules[1]!.breakpoint!;
    expect(rules[1]!.addon).toBeNull();
    expect(bp.label).toBe('rules[1] ~u /api/');
    expect([...bp.on]).toEqual(['request', 'response']);
    expect(bp).toMatchObject({ timeoutMs: null, onTimeout: 'continue' });
    expect(bp.matches(makeFlow({ request: { path: '/api/users' } }))).toBe(true);
    expect(bp.matches(makeFlow({ request: { path: '/web' } }))).toBe(false);
    expect(rules.filter((r) => r.breakpoint).length).toBe(1);
  });

  it.each<[string, string]>([
    ['{ type: breakpoint, filter: "~m POST", timeoutMs: 30000, onTimeout: abort }', 'breakpoint ~m POST on request (after 30 s, abort)'],
    ['{ type: breakpoint, filter: "~m POST", on: [response], timeoutMs: 1500 }', 'breakpoint ~m POST on response (after 1500 ms, continue)'],
    ['{ type: block, filter: "~d x", action: drop }', 'drop connections to ~d x'],
    ['{ type: rewrite, filter: "~q", part: request-header, match: "^cookie$", value: "s=\\\\w+", replace: "s=1" }', 'rewrite request-header ~q: in headers /^cookie$/ replace /s=\\w+/ with "s=1"'],
    ['{ type: command, filter: "~u x", argv: [cat], status: 201, headers: { x-a: b } }', 'command ~u x → cat (timeout 60 s)'],
  ])('explains %s', (yaml, line) => {
    expect(compileRules(specs(`- ${yaml}`), { baseDir })[0]!.explain).toBe(line);
  });

  it.each<[string, string]>([
    ['./public', resolve(baseDir, 'public')],
    ['public/../assets', resolve(baseDir, 'assets')],
    ['/srv/www', resolve('/srv/www')],
  ])('resolves the map-local path %s against the config directory', (path, root) => {
    const [rule] = compileRules([ruleSchema.parse({ type: 'map-local', filter: '~u /static/', path })], { baseDir });
    expect(rule!.addon!.request!(makeFlow({ request: { path: '/static/a.js?v=1' } }), ctx)).toEqual({ action: 'serve-local', root, urlPath: '/static/a.js', tag: 'map-local' });
  });

  it('passes the command status and headers through', () => {
    const [rule] = compileRules([ruleSchema.parse({ type: 'command', filter: '~u /x', argv: ['cat'], status: 202, headers: { 'Content-Type': 'text/csv' } })], { baseDir });
    expect(rule!.addon!.request!(makeFlow({ request: { path: '/x' } }), ctx)).toEqual({
      action: 'run-command',
      argv: ['cat'],
      timeoutMs: 60000,
      status: 202,
      headers: [['Content-Type', 'text/csv']],
      tag: 'command',
    });
  });

  it('keeps disabled rules, marked by their spec', () => {
    const [rule] = compileRules([ruleSchema.parse({ type: 'block', filter: '~d x', enabled: false })], { baseDir });
    expect(rule!.spec.enabled).toBe(false);
    expect(rule!.addon).not.toBeNull();
  });

  it.each<[string, RuleSpec, string]>([
    ['a filter that does not parse', { type: 'block', filter: '~d (', status: 403, action: 'respond', enabled: true }, 'rules[0].filter: '],
    ['a pattern that does not compile', { type: 'rewrite', filter: '~s', part: 'request-body', match: '(', replace: null, enabled: true }, 'rules[0].match: '],
    ['a map-remote target that is not http(s)', { type: 'map-remote', filter: '~s', to: 'ftp://x', enabled: true }, 'rules[0].to: '],
  ])('refuses specs that skipped the schema: %s', (_n, spec, prefix) => {
    let err: unknown;
    try {
      compileRules([spec], { baseDir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuleCompileError);
    expect((err as Error).message.startsWith(prefix)).toBe(true);
  });
});

describe('pipelineOrder', () => {
  const names = (addons: Addon[]) => addons.map((a) => a.name);

  it('sorts the enabled addons by DESIGN.md §5 stage, stable within a stage', () => {
    const rules = compileRules(
      specs(`
  - { type: rewrite, filter: "~s", part: response-body, match: a, replace: b }
  - { type: command, filter: "~u /c", argv: [cat] }
  - { type: mock, filter: "~u /m" }
  - { type: block, filter: "~d b", enabled: false }
  - { type: throttle, filter: "~d t" }
  - { type: map-local, filter: "~u /l", path: /tmp }
  - { type: breakpoint, filter: "~u /api" }
  - { type: map-remote, filter: "~d r", to: "http://127.0.0.1:1" }
  - { type: block, filter: "~d a" }
  - { type: rate-limit, filter: "~d api", perSecond: 1 }
  - { type: mock, filter: "~u /m2" }
`),
      { baseDir },
    );
    expect(names(pipelineOrder(rules))).toEqual([
      'rules[9] rate-limit',
      'rules[8] block',
      'rules[7] map-remote',
      'rules[4] throttle',
      'rules[1] command',
      'rules[2] mock',
      'rules[5] map-local',
      'rules[10] mock',
      'rules[0] rewrite',
    ]);
  });

  it('lets the runtime slot in auth, no-cache and cache', () => {
    const rules: CompiledRule[] = compileRules(specs(DESIGN_RULES), { baseDir });
    const named = (name: string): Addon => ({ name, explain: () => name });
    const items = [
      ...rules.filter((r) => r.addon && r.spec.type !== 'breakpoint').map((r) => ({ stage: r.spec.type as Exclude<RuleSpec['type'], 'breakpoint'>, addon: r.addon! })),
      { stage: 'cache' as const, addon: named('cache') },
      { stage: 'no-cache' as const, addon: named('no-cache') },
      { stage: 'auth' as const, addon: named('auth') },
    ];
    expect(names(orderAddons(items))).toEqual([
      'auth',
      'rules[6] rate-limit',
      'rules[0] block',
      'rules[2] map-remote',
      'rules[7] throttle',
      'cache',
      'no-cache',
      'rules[3] map-local',
      'rules[4] mock',
      'rules[8] command',
      'rules[5] rewrite',
    ]);
  });
});
