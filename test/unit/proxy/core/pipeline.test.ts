import { describe, expect, it } from 'vitest';
import type { LogLevel } from '../../../../src/proxy/core/events.js';
import type { Flow } from '../../../../src/proxy/core/flow.js';
import { CONTINUE, hasHook, runHooks, type Addon, type HookContext, type HookDecision, type HookName } from '../../../../src/proxy/core/pipeline.js';
import { makeFlow } from '../../../helpers/make-flow.js';

type Behaviour = 'continue' | 'void' | 'respond' | 'drop' | 'throw' | 'reject' | 'async-continue' | 'async-respond' | 'absent';

const respond = (name: string): HookDecision => ({ action: 'respond', response: { status: 200, headers: [], body: name }, tag: name });

/** An addon whose `hook` behaves as told and records that it ran. */
function addon(name: string, behaviour: Behaviour, ran: string[], hook: HookName = 'requestHeaders'): Addon {
  const a: Addon = { name, explain: () => name };
  if (behaviour === 'absent') return a;
  a[hook] = (_flow: Flow) => {
    ran.push(name);
    switch (behaviour) {
      case 'continue':
        return CONTINUE;
      case 'void':
        return undefined;
      case 'respond':
        return respond(name);
      case 'drop':
        return { action: 'drop', tag: name };
      case 'throw':
        throw new Error(`${name} broke`);
      case 'reject':
        return Promise.reject(new Error(`${name} rejected`));
      case 'async-continue':
        return Promise.resolve(CONTINUE);
      case 'async-respond':
        return Promise.resolve(respond(name));
    }
  };
  return a;
}

function context(): HookContext & { lines: Array<[LogLevel, string]> } {
  const lines: Array<[LogLevel, string]> = [];
  return {
    lines,
    log: (level, message) => void lines.push([level, message]),
    throttle: () => {},
    transformRequestBody: () => {},
    transformResponseBody: () => {},
    observeResponseBody: () => {},
  };
}

describe('runHooks', () => {
  it.each<[string, Behaviour[], string[], string | 'continue' | 'drop', number]>([
    // [case, behaviours of addons a,b,c…, addons that ran, winner (tag) or continue, errors logged]
    ['no addons', [], [], 'continue', 0],
    ['all continue, in order', ['continue', 'void', 'async-continue'], ['a', 'b', 'c'], 'continue', 0],
    ['first respond wins, later addons do not run', ['continue', 'respond', 'respond'], ['a', 'b'], 'b', 0],
    ['async respond wins', ['async-continue', 'async-respond', 'respond'], ['a', 'b'], 'b', 0],
    ['drop wins like respond', ['drop', 'respond'], ['a'], 'drop', 0],
    ['a throwing addon is logged and skipped', ['throw', 'respond'], ['a', 'b'], 'b', 1],
    ['a rejecting addon is logged and skipped', ['reject', 'continue', 'respond'], ['a', 'b', 'c'], 'c', 1],
    ['every failure is logged, then continue', ['throw', 'reject', 'throw'], ['a', 'b', 'c'], 'continue', 3],
    ['addons without the hook are skipped', ['absent', 'continue', 'absent', 'respond'], ['b', 'd'], 'd', 0],
  ])('%s', async (_case, behaviours, expectedRan, winner, errors) => {
    const ran: string[] = [];
    const names = 'abcdefgh'.split('');
    const addons = behaviours.map((b, i) => addon(names[i]!, b, ran));
    const ctx = context();
    const decision = await runHooks(addons, 'requestHeaders', makeFlow(), ctx);
    expect(ran).toEqual(expectedRan);
    if (winner === 'continue') expect(decision).toEqual({ action: 'continue' });
    else if (winner === 'drop') expect(decision).toEqual({ action: 'drop', tag: 'a' });
    else expect(decision).toEqual(respond(winner));
    expect(ctx.lines).toHaveLength(errors);
  });

  it('logs the addon name, the hook and the error message at level error', async () => {
    const ctx = context();
    await runHooks([addon('auth', 'throw', [], 'responseHeaders')], 'responseHeaders', makeFlow(), ctx);
    expect(ctx.lines).toEqual([['error', 'rule auth failed in responseHeaders: auth broke']]);
  });

  it('logs a thrown non-Error value', async () => {
    const ctx = context();
    const bad: Addon = {
      name: 'odd',
      explain: () => 'odd',
      requestHeaders() {
        throw 'a string'; // eslint-disable-line no-throw-literal -- what a careless addon might do
      },
    };
    await expect(runHooks([bad], 'requestHeaders', makeFlow(), ctx)).resolves.toEqual(CONTINUE);
    expect(ctx.lines[0]?.[1]).toContain('a string');
  });

  it('runs only the named hook', async () => {
    const ran: string[] = [];
    const onResponse = addon('r', 'respond', ran, 'responseHeaders');
    await expect(runHooks([onResponse], 'requestHeaders', makeFlow(), context())).resolves.toEqual(CONTINUE);
    expect(ran).toEqual([]);
  });

  it('calls hooks with the addon as `this`, the flow and the context, and lets them change the flow', async () => {
    const flow = makeFlow();
    const ctx = context();
    const seen: unknown[] = [];
    const a: Addon & { marker: string } = {
      name: 'this-check',
      marker: 'me',
      explain: () => 'x',
      requestHeaders(f, c) {
        seen.push(this.marker, f, c);
        f.request.headers.push(['X-Added', '1']);
      },
    };
    await runHooks([a], 'requestHeaders', flow, ctx);
    expect(seen).toEqual(['me', flow, ctx]);
    expect(flow.request.headers).toContainEqual(['X-Added', '1']);
  });

  it('awaits each addon before starting the next', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: Addon = {
      name: 'slow',
      explain: () => 'slow',
      async requestHeaders() {
        order.push('slow:start');
        await gate;
        order.push('slow:end');
      },
    };
    const next: Addon = { name: 'next', explain: () => 'next', requestHeaders: () => void order.push('next') };
    const done = runHooks([slow, next], 'requestHeaders', makeFlow(), context());
    await Promise.resolve();
    expect(order).toEqual(['slow:start']);
    release();
    await done;
    expect(order).toEqual(['slow:start', 'slow:end', 'next']);
  });

  it('CONTINUE is frozen', () => {
    expect(Object.isFrozen(CONTINUE)).toBe(true);
  });
});

describe('hasHook', () => {
  it.each<[string, Array<Behaviour>, HookName, boolean]>([
    ['empty', [], 'requestHeaders', false],
    ['none have it', ['absent', 'absent'], 'requestHeaders', false],
    ['one has it', ['absent', 'continue'], 'requestHeaders', true],
    ['has only the other hook', ['continue'], 'responseHeaders', false],
  ])('%s', (_name, behaviours, hook, expected) => {
    const addons = behaviours.map((b, i) => addon(String(i), b, [], 'requestHeaders'));
    expect(hasHook(addons, hook)).toBe(expected);
  });
});
