import { describe, expect, it } from 'vitest';
import { INITIAL_HEALTH, nextHealth, type HealthEvent, type HealthRules, type HealthState } from '../../../../src/proxy/reverse/health-state.js';

const ACTIVE: HealthRules = { active: true, unhealthyAfter: 2, healthyAfter: 3, passiveFailures: 2, cooldownMs: 5000 };
const PASSIVE_ONLY: HealthRules = { ...ACTIVE, active: false };

function run(events: HealthEvent[], rules: HealthRules, from: HealthState = INITIAL_HEALTH) {
  let state = from;
  const changes: Array<[number, string]> = [];
  events.forEach((e, i) => {
    const r = nextHealth(state, e, rules);
    state = r.state;
    if (r.change) changes.push([i, r.change]);
  });
  return { state, changes };
}

const check = (ok: boolean, at = 0): HealthEvent => ({ type: 'check', ok, detail: ok ? 'HTTP 200' : 'connection refused', at });
const request = (ok: boolean, at = 0): HealthEvent => ({ type: 'request', ok, detail: ok ? 'HTTP 200' : 'HTTP 502', at });

describe('backend health', () => {
  it('goes down after unhealthyAfter consecutive failed checks, once', () => {
    const { state, changes } = run([check(false, 1), check(true, 2), check(false, 3), check(false, 4), check(false, 5)], ACTIVE);
    expect(changes).toEqual([[3, 'down']]);
    expect(state).toMatchObject({ healthy: false, since: 4 });
    expect(state.reason).toMatch(/connection refused/);
  });

  it('comes back after healthyAfter consecutive good checks, once', () => {
    const down = run([check(false), check(false)], ACTIVE).state;
    const { state, changes } = run([check(true, 10), check(true, 11), check(false, 12), check(true, 13), check(true, 14), check(true, 15), check(true, 16)], ACTIVE, down);
    expect(changes).toEqual([[5, 'up']]);
    expect(state).toMatchObject({ healthy: true, since: 15, reason: null });
  });

  it('goes down after passiveFailures failed requests in a row; a good one resets the streak', () => {
    expect(run([request(false), request(true), request(false)], ACTIVE).changes).toEqual([]);
    const { state, changes } = run([request(false, 1), request(false, 2)], ACTIVE);
    expect(changes).toEqual([[1, 'down']]);
    expect(state.reason).toMatch(/2 failed requests in a row: HTTP 502/);
  });

  it('with active checks, a backend marked down by traffic needs a fresh run of good checks', () => {
    const afterTwoGood = run([check(true), check(true)], ACTIVE).state;
    const down = run([request(false), request(false)], ACTIVE, afterTwoGood).state;
    expect(down.healthy).toBe(false);
    expect(down.downUntil).toBeNull();
    expect(run([check(true), check(true)], ACTIVE, down).state.healthy).toBe(false);
    expect(run([check(true), check(true), check(true)], ACTIVE, down).changes).toEqual([[2, 'up']]);
  });

  it('without active checks, comes back when the cool-down is over (and not before)', () => {
    const { state: down } = run([request(false, 1000), request(false, 2000)], PASSIVE_ONLY);
    expect(down.downUntil).toBe(7000);
    expect(run([{ type: 'cooldown-over', at: 6999 }], PASSIVE_ONLY, down).changes).toEqual([]);
    const { state, changes } = run([{ type: 'cooldown-over', at: 7000 }], PASSIVE_ONLY, down);
    expect(changes).toEqual([[0, 'up']]);
    expect(state).toMatchObject({ healthy: true, passiveFail: 0, downUntil: null });
  });

  it('passiveFailures 0 only counts', () => {
    const { state, changes } = run(Array.from({ length: 10 }, () => request(false)), { ...ACTIVE, passiveFailures: 0 });
    expect(changes).toEqual([]);
    expect(state).toMatchObject({ healthy: true, passiveFail: 10 });
  });

  it('keeps the latest failure as the reason while down, without another change', () => {
    const down = run([check(false), check(false)], ACTIVE).state;
    const r = nextHealth(down, { type: 'check', ok: false, detail: 'HTTP 503', at: 9 }, ACTIVE);
    expect(r.change).toBeNull();
    expect(r.state.reason).toBe('health check failed: HTTP 503');
  });
});
