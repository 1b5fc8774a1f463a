import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { EventBus } from '../../../src/proxy/bus.js';
import type { ProxyEvent, ProxyEventType } from '../../../src/proxy/core/events.js';
import { makeFlow } from '../../helpers/make-flow.js';

const flow = makeFlow();
const EVENTS: Record<ProxyEventType, ProxyEvent> = {
  'flow-start': { type: 'flow-start', flow },
  'flow-update': { type: 'flow-update', flow },
  'flow-end': { type: 'flow-end', flow },
  'ws-message': { type: 'ws-message', flowId: flow.id, message: { direction: 'client', type: 'text', size: 2, payload: Buffer.from('hi'), truncated: false, time: 1 } },
  log: { type: 'log', level: 'info', message: 'hello', time: 1 },
};
const TYPES = Object.keys(EVENTS) as ProxyEventType[];

describe('EventBus', () => {
  it.each(TYPES)('delivers %s only to its own listeners and to onAny', (type) => {
    const bus = new EventBus();
    const got: Record<string, ProxyEvent[]> = {};
    for (const t of TYPES) bus.on(t, (e) => (got[t] ??= []).push(e));
    const any: ProxyEvent[] = [];
    bus.onAny((e) => any.push(e));
    bus.emit(EVENTS[type]);
    for (const t of TYPES) expect(got[t] ?? []).toEqual(t === type ? [EVENTS[type]] : []);
    expect(any).toEqual([EVENTS[type]]);
  });

  it('passes the same event object (no copy on delivery) to typed listeners first, then onAny, in subscription order', () => {
    const bus = new EventBus();
    const order: string[] = [];
    const seen: ProxyEvent[] = [];
    bus.onAny((e) => {
      order.push('any1');
      seen.push(e);
    });
    bus.on('flow-end', (e) => {
      order.push('typed1');
      seen.push(e);
    });
    bus.on('flow-end', () => order.push('typed2'));
    bus.onAny(() => order.push('any2'));
    bus.emit(EVENTS['flow-end']);
    expect(order).toEqual(['typed1', 'typed2', 'any1', 'any2']);
    expect(seen.every((e) => e === EVENTS['flow-end'])).toBe(true);
  });

  it('types listeners by event type', () => {
    const bus = new EventBus();
    bus.on('ws-message', (e) => {
      expectTypeOf(e).toEqualTypeOf<Extract<ProxyEvent, { type: 'ws-message' }>>();
    });
    bus.on('log', (e) => {
      expectTypeOf(e.level).toEqualTypeOf<'debug' | 'info' | 'warn' | 'error'>();
    });
  });

  describe('wants', () => {
    it.each<[string, (bus: EventBus) => void, Partial<Record<ProxyEventType, boolean>>]>([
      ['nobody listens', () => {}, {}],
      ['one typed listener', (b) => void b.on('flow-end', () => {}), { 'flow-end': true }],
      ['two typed listeners', (b) => (b.on('log', () => {}), void b.on('ws-message', () => {})), { log: true, 'ws-message': true }],
      ['onAny wants everything', (b) => void b.onAny(() => {}), { 'flow-start': true, 'flow-update': true, 'flow-end': true, 'ws-message': true, log: true }],
      ['after unsubscribing', (b) => b.on('flow-end', () => {})(), {}],
      ['after unsubscribing onAny', (b) => b.onAny(() => {})(), {}],
    ])('%s', (_name, setup, wanted) => {
      const bus = new EventBus();
      setup(bus);
      for (const t of TYPES) expect(bus.wants(t), t).toBe(wanted[t] ?? false);
    });
  });

  it('unsubscribe stops delivery to that listener only, and is idempotent', () => {
    const bus = new EventBus();
    const a = vi.fn();
    const b = vi.fn();
    const any = vi.fn();
    const offA = bus.on('log', a);
    bus.on('log', b);
    const offAny = bus.onAny(any);
    bus.emit(EVENTS.log);
    offA();
    offA();
    offAny();
    bus.emit(EVENTS.log);
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(2);
    expect(any).toHaveBeenCalledTimes(1);
  });

  it('the same function subscribed twice is one subscription', () => {
    const bus = new EventBus();
    const l = vi.fn();
    bus.on('log', l);
    bus.on('log', l);
    bus.emit(EVENTS.log);
    expect(l).toHaveBeenCalledTimes(1);
  });

  it('a throwing listener does not stop the others and is reported', () => {
    const errors: unknown[] = [];
    const bus = new EventBus((err) => errors.push(err));
    const before = vi.fn();
    const after = vi.fn();
    const any = vi.fn();
    const boom = new Error('listener broke');
    bus.on('flow-end', before);
    bus.on('flow-end', () => {
      throw boom;
    });
    bus.on('flow-end', after);
    bus.onAny(() => {
      throw 'any broke';
    });
    bus.onAny(any);
    expect(() => bus.emit(EVENTS['flow-end'])).not.toThrow();
    expect(before).toHaveBeenCalledOnce();
    expect(after).toHaveBeenCalledOnce();
    expect(any).toHaveBeenCalledOnce();
    expect(errors).toEqual([boom, 'any broke']);
  });

  it('swallows listener errors without a reporter', () => {
    const bus = new EventBus();
    bus.on('log', () => {
      throw new Error('x');
    });
    expect(() => bus.emit(EVENTS.log)).not.toThrow();
  });

  describe('log', () => {
    it('emits a log event with a time, and a flowId only when given', () => {
      const bus = new EventBus();
      const got: ProxyEvent[] = [];
      bus.on('log', (e) => got.push(e));
      const before = Date.now();
      bus.log('warn', 'careful');
      bus.log('error', 'bad flow', 'f1');
      expect(got).toHaveLength(2);
      expect(got[0]).toEqual({ type: 'log', level: 'warn', message: 'careful', time: expect.any(Number) });
      expect(got[0]).not.toHaveProperty('flowId');
      expect(got[1]).toEqual({ type: 'log', level: 'error', message: 'bad flow', flowId: 'f1', time: expect.any(Number) });
      expect((got[0] as { time: number }).time).toBeGreaterThanOrEqual(before);
    });

    it('builds nothing when nobody wants log events', () => {
      const bus = new EventBus();
      const emit = vi.spyOn(bus, 'emit');
      bus.on('flow-end', () => {});
      bus.log('info', 'unheard');
      expect(emit).not.toHaveBeenCalled();
      bus.onAny(() => {});
      bus.log('info', 'heard');
      expect(emit).toHaveBeenCalledOnce();
    });
  });
});
