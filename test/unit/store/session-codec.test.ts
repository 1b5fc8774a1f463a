/**
 * The session line is a contract (`proxyctl open` reads old sessions, the indexer finds `v` and
 * `id` at the head): these lines are what the encoder wrote before it stopped copying objects
 * (issue 9), byte for byte, including a message built in another key order.
 */
import { describe, expect, it } from 'vitest';
import { encodeFlow, sha256Hex } from '../../../src/store/session-codec.js';
import { body, makeFlow } from '../../helpers/make-flow.js';

const GOLDEN_1 = String.raw`{"v":1,"id":"golden-1","kind":"http","phase":"done","client":{"address":"127.0.0.1","port":50000,"tlsVersion":null,"sni":null,"alpn":null},"server":{"host":"example.com","port":80,"address":"192.0.2.10","tlsVersion":null,"alpn":null,"certificate":null},"request":{"method":"POST","scheme":"http","host":"example.com","port":80,"path":"/api?q=1","httpVersion":"1.1","headers":[["Host","example.com"],["User-Agent","curl/8.5.0"],["Accept","*/*"]],"trailers":null,"body":{"size":7,"blob":"015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862","captured":7,"truncated":false,"sha256":"015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862","state":"complete"}},"response":{"status":201,"statusText":"Created","httpVersion":"1.1","headers":[["Content-Type","application/json"],["X-Ünïcode","é"]],"trailers":null,"body":{"size":11,"blob":"4062edaf750fb8074e7e83e0c9028c94e32468a8b6f1614774328ef045150f93","captured":11,"truncated":false,"sha256":"4062edaf750fb8074e7e83e0c9028c94e32468a8b6f1614774328ef045150f93","state":"complete"}},"timings":{"start":1704067200000,"requestHeaders":1,"requestEnd":2.5000000000000004,"upstreamConnect":5,"upstreamTls":null,"upstreamSent":6,"firstByte":30,"responseEnd":35},"error":null,"tags":["t1"],"marked":false,"websocket":null}`;
const GOLDEN_2 = String.raw`{"v":1,"id":"golden-2","kind":"http","phase":"error","client":{"address":"127.0.0.1","port":50000,"tlsVersion":null,"sni":null,"alpn":null},"server":{"host":"example.com","port":80,"address":"192.0.2.10","tlsVersion":null,"alpn":null,"certificate":null},"request":{"method":"GET","scheme":"http","host":"a","port":80,"path":"/","headers":[["Host","a"]],"trailers":null,"httpVersion":"1.1","body":{"size":0,"blob":null,"captured":0,"truncated":false,"sha256":null,"state":"none"}},"response":null,"timings":{"start":1704067200000,"requestHeaders":1,"requestEnd":2,"upstreamConnect":5,"upstreamTls":null,"upstreamSent":6,"firstByte":null,"responseEnd":null},"error":{"code":"UPSTREAM_REFUSED","message":"connect ECONNREFUSED"},"tags":[],"marked":false,"websocket":null}`;

describe('encodeFlow', () => {
  it('writes the same bytes as before for a flow with bodies, a float timing and non-ASCII headers', () => {
    const f = makeFlow({
      id: 'golden-1',
      request: { method: 'POST', path: '/api?q=1', body: body('{"a":1}') },
      response: { status: 201, headers: [['Content-Type', 'application/json'], ['X-Ünïcode', 'é']], body: body('{"ok":true}') },
      timings: { requestEnd: 2.5000000000000004 },
      tags: ['t1'],
    });
    const { record, blobs } = encodeFlow(f);
    expect(JSON.stringify(record)).toBe(GOLDEN_1);
    expect(blobs.map((b) => b.hash)).toEqual([sha256Hex(Buffer.from('{"a":1}')), sha256Hex(Buffer.from('{"ok":true}'))]);
  });

  it('keeps the key order of a message as built, body moved last (an error flow without response)', () => {
    const f = makeFlow({ id: 'golden-2', response: null, error: { code: 'UPSTREAM_REFUSED', message: 'connect ECONNREFUSED' } });
    f.request = { body: f.request.body, method: 'GET', scheme: 'http', host: 'a', port: 80, path: '/', headers: [['Host', 'a']], trailers: null, httpVersion: '1.1' };
    expect(JSON.stringify(encodeFlow(f).record)).toBe(GOLDEN_2);
  });

  it('names blobs with the hash function it is given (the same name either way)', () => {
    const f = makeFlow({ response: { body: { ...body('abc'), sha256: null } } });
    const seen: string[] = [];
    const { record } = encodeFlow(f, (bytes) => {
      seen.push(bytes.toString());
      return sha256Hex(bytes);
    });
    expect(seen).toEqual(['abc']);
    expect(record.response!.body.blob).toBe(sha256Hex(Buffer.from('abc')));
    expect(JSON.stringify(record)).toBe(JSON.stringify(encodeFlow(f).record));
  });
});
