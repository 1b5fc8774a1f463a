/**
 * TurnBudget: the slicer that keeps certificate work for new hosts from holding the event loop.
 * Tasks are plain functions; "expensive" ones spin on the clock past the budget.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { TurnBudget } from '../../../../src/proxy/net/tls-terminator.js';

/** Busy for `ms` of wall time (a stand-in for signing a leaf and building its context). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnBudget', () => {
  it('runs cheap tasks at once, in order, while the turn has budget', () => {
    const budget = new TurnBudget(1000);
    const ran: number[] = [];
    for (let i = 0; i < 5; i++) budget.run(() => ran.push(i));
    expect(ran).toEqual([0, 1, 2, 3, 4]);
  });

  it('defers tasks once the turn spent its budget, and runs them in order later', async () => {
    const budget = new TurnBudget(1);
    const ran: string[] = [];
    budget.run(() => {
      spin(3);
      ran.push('a');
    });
    budget.run(() => ran.push('b'));
    budget.run(() => ran.push('c'));
    expect(ran).toEqual(['a']);
    await nextTurn();
    await nextTurn();
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('lets other callbacks run between two expensive tasks', async () => {
    const budget = new TurnBudget(1);
    const ran: string[] = [];
    for (const name of ['t1', 't2', 't3']) {
      budget.run(() => {
        spin(2);
        ran.push(name);
      });
    }
    // Queued after the budget's own turn: it must not wait for every task.
    setImmediate(() => ran.push('other'));
    for (let i = 0; i < 5 && ran.length < 4; i++) await nextTurn();
    expect(ran).toEqual(['t1', 't2', 'other', 't3']);
  });

  it('keeps later cheap tasks behind waiting ones (first come, first served)', async () => {
    const budget = new TurnBudget(1);
    const ran: string[] = [];
    budget.run(() => spin(2));
    budget.run(() => ran.push('queued'));
    await nextTurn();
    budget.run(() => ran.push('later'));
    await nextTurn();
    expect(ran).toEqual(['queued', 'later']);
  });

  it('starts each turn with a fresh budget', async () => {
    const budget = new TurnBudget(1);
    budget.run(() => spin(2));
    await nextTurn();
    const ran: string[] = [];
    budget.run(() => ran.push('now'));
    expect(ran).toEqual(['now']);
  });

  it('hands what a task throws to onError and keeps serving the queue', async () => {
    const errors: unknown[] = [];
    const budget = new TurnBudget(1, (err) => errors.push(err));
    const ran: string[] = [];
    budget.run(() => {
      throw new Error('at once');
    });
    budget.run(() => spin(2));
    budget.run(() => {
      throw new Error('deferred');
    });
    budget.run(() => ran.push('after'));
    for (let i = 0; i < 5 && ran.length === 0; i++) await nextTurn();
    expect(ran).toEqual(['after']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['at once', 'deferred']);
  });
});
