import { isAbsolute, resolve } from 'node:path';
import type { Breakpoint } from '../proxy/core/breakpoints.js';
import type { Addon } from '../proxy/core/pipeline.js';
import { parseFilter, type FlowPredicate } from '../proxy/filter/index.js';
import { assertNever } from '../proxy/core/assert-never.js';
import { blockRule } from '../proxy/rules/block.js';
import { commandRule } from '../proxy/rules/command.js';
import { mapLocalRule } from '../proxy/rules/map-local.js';
import { mapRemoteRule } from '../proxy/rules/map-remote.js';
import { mockRule } from '../proxy/rules/mock.js';
import { rateLimitRule } from '../proxy/rules/rate-limit.js';
import { rewriteRule } from '../proxy/rules/rewrite.js';
import { throttleRule } from '../proxy/rules/throttle.js';
import type { RuleSpec } from './schema.js';

/** One rule spec of the config file (or the user's settings), compiled. */
export interface CompiledRule {
  /** Position in the list it came from (`rules[index]`). */
  index: number;
  /** The spec as given; `spec.enabled` says whether it takes part (disabled rules compile too). */
  spec: RuleSpec;
  /** One line for the rules pane. */
  explain: string;
  /** The pipeline addon; null for a breakpoint rule. */
  addon: Addon | null;
  /** The breakpoint; null for every other rule type. */
  breakpoint: Breakpoint | null;
}

export interface CompileOptions {
  /** Directory relative `map-local` paths are resolved against (the config file's directory). */
  baseDir: string;
  /** What the rules are called in names and messages. @default 'rules' (the config file's key) */
  label?: string;
}

/** A spec that does not compile; `field` names it like the schema does (`rules[1].filter`). */
export class RuleCompileError extends Error {
  override name = 'RuleCompileError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * Compile rule specs in their order. The schema has already refused bad filters and patterns;
 * specs that skipped it (hand-edited settings) throw `RuleCompileError` naming the field.
 */
export function compileRules(specs: readonly RuleSpec[], opts: CompileOptions): CompiledRule[] {
  return specs.map((spec, index) => compileRule(spec, index, opts));
}

export function compileRule(spec: RuleSpec, index: number, opts: CompileOptions): CompiledRule {
  const at = `${opts.label ?? 'rules'}[${index}]`;
  const name = `${at} ${spec.type}`;
  const filterText = spec.filter;
  const matches = compileFilterOf(filterText, `${at}.filter`);
  const made = (addon: Addon): CompiledRule => ({ index, spec, explain: addon.explain(), addon, breakpoint: null });
  switch (spec.type) {
    case 'block':
      return made(blockRule({ name, filterText, matches, status: spec.status, action: spec.action }));
    case 'breakpoint': {
      const breakpoint: Breakpoint = {
        label: `${at} ${filterText}`,
        matches,
        on: new Set(spec.on),
        timeoutMs: spec.timeoutMs,
        onTimeout: spec.onTimeout,
      };
      return { index, spec, explain: explainBreakpoint(spec), addon: null, breakpoint };
    }
    case 'map-remote':
      return made(wrap(`${at}.to`, () => mapRemoteRule({ name, filterText, matches, to: spec.to })));
    case 'map-local': {
      const root = isAbsolute(spec.path) ? resolve(spec.path) : resolve(opts.baseDir, spec.path);
      return made(mapLocalRule({ name, filterText, matches, root }));
    }
    case 'mock':
      return made(mockRule({ name, filterText, matches, status: spec.status, headers: spec.headers, body: spec.body }));
    case 'rewrite': {
      const match = regexOf(spec.match, `${at}.match`);
      const value = spec.value === undefined ? null : regexOf(spec.value, `${at}.value`);
      return made(rewriteRule({ name, filterText, matches, part: spec.part, match, value, replace: spec.replace }));
    }
    case 'rate-limit':
      return made(rateLimitRule({ name, filterText, matches, perSecond: spec.perSecond, burst: spec.burst }));
    case 'throttle':
      return made(throttleRule({ name, filterText, matches, latencyMs: spec.latencyMs, bytesPerSecond: spec.bytesPerSecond }));
    case 'command':
      return made(commandRule({ name, filterText, matches, argv: programRelativeTo(spec.argv, opts.baseDir), timeoutMs: spec.timeoutMs, status: spec.status, headers: spec.headers }));
    default:
      return assertNever(spec);
  }
}

/**
 * Where each stage stands in the pipeline (DESIGN.md §5), lower first. `auth`, `cache` and
 * `no-cache` are not rule specs: the runtime adds them with `orderAddons`. Hooks of different
 * kinds run at their own stage anyway; the rank orders addons sharing a hook (e.g. rewrite before
 * cache store in `responseHeaders`, block before map-remote in `requestHeaders`).
 */
export const PIPELINE_RANK = {
  auth: 0,
  'rate-limit': 1,
  block: 2,
  'map-remote': 3,
  throttle: 4,
  'no-cache': 5,
  cache: 5,
  mock: 6,
  'map-local': 6,
  command: 6,
  rewrite: 7,
} as const;

export type PipelineStage = keyof typeof PIPELINE_RANK;

/** Sort addons by stage, keeping the given order within a stage (mock / map-local / command in file order). */
export function orderAddons(items: ReadonlyArray<{ stage: PipelineStage; addon: Addon }>): Addon[] {
  return items
    .map((item, order) => ({ rank: PIPELINE_RANK[item.stage], order, addon: item.addon }))
    .sort((a, b) => a.rank - b.rank || a.order - b.order)
    .map((r) => r.addon);
}

/** The enabled rules' addons in pipeline order (breakpoints are not addons). */
export function pipelineOrder(rules: readonly CompiledRule[]): Addon[] {
  const items: Array<{ stage: PipelineStage; addon: Addon }> = [];
  for (const r of rules) if (r.spec.enabled && r.addon && r.spec.type !== 'breakpoint') items.push({ stage: r.spec.type, addon: r.addon });
  return orderAddons(items);
}

function compileFilterOf(text: string, field: string): FlowPredicate {
  const r = parseFilter(text);
  if (!r.ok) throw new RuleCompileError(field, `${r.error.message} at column ${r.error.column}`);
  return r.predicate;
}

function regexOf(source: string, field: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new RuleCompileError(field, `expected a JavaScript regular expression (${(err as Error).message})`);
  }
}

function wrap<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new RuleCompileError(field, (err as Error).message);
  }
}

function explainBreakpoint(spec: Extract<RuleSpec, { type: 'breakpoint' }>): string {
  const timeout = spec.timeoutMs === null ? '' : ` (after ${spec.timeoutMs % 1000 === 0 ? `${spec.timeoutMs / 1000} s` : `${spec.timeoutMs} ms`}, ${spec.onTimeout})`;
  return `breakpoint ${spec.filter} on ${spec.on.join(' and ')}${timeout}`;
}

/**
 * A program named by a path (`./bin/tool`, `scripts/x.sh`) is found relative to the config file,
 * like map-local paths; a bare name (`ffmpeg`) is looked up on PATH as usual.
 */
function programRelativeTo(argv: readonly string[], baseDir: string): string[] {
  const [program, ...args] = argv;
  if (program === undefined || !program.includes('/') || isAbsolute(program)) return [...argv];
  return [resolve(baseDir, program), ...args];
}
