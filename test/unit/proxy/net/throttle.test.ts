import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { delay, ThrottleStream } from '../../../../src/proxy/net/throttle.js';

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

function sink() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { stream, chunks, bytes: () => Buffer.concat(chunks) };
}

describe('ThrottleStream', () => {
  it('passes 50 KB at 100 KB/s in about 0.4 s, bytes unchanged, through pipeline()', { timeout: 10_000 }, async () => {
    const input = randomBytes(50 * 1024);
    const out = sink();
    const t0 = performance.now();
    await pipeline(Readable.from([input.subarray(0, 30_000), input.subarray(30_000)]), new ThrottleStream(100 * 1024), out.stream);
    const elapsed = performance.now() - t0;
    // A burst of 1/10 s (10 KB) goes at once, the other 40 KB take 0.4 s.
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(2000);
    expect(out.bytes().equals(input)).toBe(true);
    expect(out.chunks.length).toBeGreaterThan(2); // the big chunks were split
  });

  it('lets the first burst through at once', { timeout: 5_000 }, async () => {
    const throttle = new ThrottleStream(100_000);
    const t0 = performance.now();
    const first = new Promise<Buffer>((resolve) => throttle.once('data', resolve));
    throttle.write(Buffer.alloc(50_000));
    const chunk = await first;
    expect(performance.now() - t0).toBeLessThan(50);
    expect(chunk.length).toBe(10_000);
    throttle.destroy();
  });

  it('keeps the order of many small and large writes', { timeout: 10_000 }, async () => {
    const parts = Array.from({ length: 200 }, (_, i) => randomBytes(i % 7 === 0 ? 5000 : (i % 13) + 1));
    const out = sink();
    await pipeline(Readable.from(parts), new ThrottleStream(2_000_000), out.stream);
    expect(out.bytes().equals(Buffer.concat(parts))).toBe(true);
  });

  it('keeps backpressure: does not take a new chunk while the reader is not reading', { timeout: 10_000 }, async () => {
    const throttle = new ThrottleStream(10_000_000);
    let accepted = 0;
    // Write until the writable side says stop; nobody reads the readable side.
    while (throttle.write(Buffer.alloc(4096))) accepted++;
    await delay(50);
    // At most the readable buffer (16 KiB) plus the writable buffer (16 KiB) is held.
    expect(throttle.readableLength + throttle.writableLength).toBeLessThanOrEqual(64 * 1024);
    expect(accepted).toBeLessThan(16);
    throttle.destroy();
  });

  // Every wait is at most ~1/10 s by design, so "the process is not held open" is checked through
  // Node's list of active timers rather than by timing a process exit.
  it('clears its timer on destroy mid-way, so the process is not held open', { timeout: 10_000 }, async () => {
    const before = timers();
    const throttle = new ThrottleStream(1000);
    const first = new Promise((resolve) => throttle.once('data', resolve));
    throttle.write(Buffer.alloc(100_000));
    await first;
    expect(timers()).toBe(before + 1);
    const closed = new Promise((resolve) => throttle.once('close', resolve));
    throttle.destroy();
    await closed;
    expect(timers()).toBe(before);
  });

  it('destroys cleanly inside a pipeline whose source fails', { timeout: 10_000 }, async () => {
    const source = new PassThrough();
    const throttle = new ThrottleStream(1000);
    const done = pipeline(source, throttle, sink().stream);
    source.write(Buffer.alloc(10_000));
    await delay(20);
    const before = timers();
    source.destroy(new Error('client went away'));
    await expect(done).rejects.toThrow('client went away');
    expect(throttle.destroyed).toBe(true);
    expect(timers()).toBeLessThan(before);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a rate of %s', (rate) => {
    expect(() => new ThrottleStream(rate)).toThrow(RangeError);
  });
});

describe('delay', () => {
  it('waits the given time', async () => {
    const t0 = performance.now();
    await delay(100);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
  });

  it('resolves early and quietly on abort, clearing its timer', async () => {
    const before = timers();
    const ac = new AbortController();
    const t0 = performance.now();
    const waiting = delay(60_000, ac.signal);
    expect(timers()).toBe(before + 1);
    setImmediate(() => ac.abort());
    await waiting;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(timers()).toBe(before);
  });

  it('resolves at once for an aborted signal or a non-positive time', async () => {
    const before = timers();
    await delay(60_000, AbortSignal.abort());
    await delay(0);
    expect(timers()).toBe(before);
  });
});
