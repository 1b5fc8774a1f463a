import { assertNever } from '../core/assert-never.js';

/**
 * A backend's health as a pure state machine: events in (an active check's result, a request's
 * outcome, the end of a passive cool-down), the next state and the change (if any) out. The pool
 * applies it and logs each change once; the tests drive it without timers or sockets.
 */

export interface HealthState {
  healthy: boolean;
  /** Consecutive good / failed active checks. */
  activeOk: number;
  activeFail: number;
  /** Consecutive failed requests (connection failures and 5xx). */
  passiveFail: number;
  /** Epoch ms of the last change, null before the first. */
  since: number | null;
  /** Why it is down (the latest failure while down), else null. */
  reason: string | null;
  /** Without active checks: when a backend marked down by traffic is taken back. */
  downUntil: number | null;
}

export type HealthEvent =
  | { type: 'check'; ok: boolean; detail: string; at: number }
  | { type: 'request'; ok: boolean; detail: string; at: number }
  | { type: 'cooldown-over'; at: number };

export interface HealthRules {
  /** Active checks run for this backend (they then decide when it comes back). */
  active: boolean;
  unhealthyAfter: number;
  healthyAfter: number;
  /** Consecutive failed requests that mark it down; 0 never does. */
  passiveFailures: number;
  cooldownMs: number;
}

export type HealthChange = 'down' | 'up' | null;

export const INITIAL_HEALTH: HealthState = { healthy: true, activeOk: 0, activeFail: 0, passiveFail: 0, since: null, reason: null, downUntil: null };

export function nextHealth(s: HealthState, e: HealthEvent, rules: HealthRules): { state: HealthState; change: HealthChange } {
  switch (e.type) {
    case 'check':
      if (e.ok) {
        const activeOk = s.activeOk + 1;
        if (!s.healthy && activeOk >= rules.healthyAfter) return up({ ...s, activeOk }, e.at);
        return same({ ...s, activeOk, activeFail: 0 });
      } else {
        const activeFail = s.activeFail + 1;
        const next = { ...s, activeOk: 0, activeFail };
        if (s.healthy && activeFail >= rules.unhealthyAfter) {
          return down(next, `${activeFail} failed health check${activeFail === 1 ? '' : 's'}: ${e.detail}`, e.at, null);
        }
        return same(s.healthy ? next : { ...next, reason: `health check failed: ${e.detail}` });
      }
    case 'request':
      if (e.ok) return same(s.passiveFail === 0 ? s : { ...s, passiveFail: 0 });
      {
        const passiveFail = s.passiveFail + 1;
        const next = { ...s, passiveFail };
        if (s.healthy && rules.passiveFailures > 0 && passiveFail >= rules.passiveFailures) {
          // Back through the active checks (a fresh run of good ones), or after the cool-down.
          return down({ ...next, activeOk: 0 }, `${passiveFail} failed request${passiveFail === 1 ? '' : 's'} in a row: ${e.detail}`, e.at, rules.active ? null : e.at + rules.cooldownMs);
        }
        return same(next);
      }
    case 'cooldown-over':
      if (!s.healthy && !rules.active && s.downUntil !== null && e.at >= s.downUntil) return up(s, e.at);
      return same(s);
    default:
      return assertNever(e, 'health event');
  }
}

function same(state: HealthState): { state: HealthState; change: HealthChange } {
  return { state, change: null };
}

function up(s: HealthState, at: number): { state: HealthState; change: HealthChange } {
  return { state: { ...s, healthy: true, activeFail: 0, passiveFail: 0, since: at, reason: null, downUntil: null }, change: 'up' };
}

function down(s: HealthState, reason: string, at: number, downUntil: number | null): { state: HealthState; change: HealthChange } {
  return { state: { ...s, healthy: false, since: at, reason, downUntil }, change: 'down' };
}
