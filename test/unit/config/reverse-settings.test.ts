import { describe, expect, it } from 'vitest';
import { resolveReverseSettings } from '../../../src/config/reverse-settings.js';
import { configSchema, formatIssues } from '../../../src/config/schema.js';

function problems(reverse: unknown): string[] {
  const r = configSchema.safeParse({ reverse });
  return r.success ? [] : formatIssues(r.error);
}

function section(reverse: unknown) {
  const r = configSchema.parse({ reverse });
  return r.reverse;
}

describe('reverse config section', () => {
  it('accepts the DESIGN example and the extensions', () => {
    expect(
      problems({
        balance: 'round-robin',
        backends: [{ url: 'http://127.0.0.1:3001', weight: 1 }, { url: 'http://127.0.0.1:3002' }],
        health: { path: '/healthz', intervalMs: 2000, timeoutMs: 1000, unhealthyAfter: 2, healthyAfter: 2 },
        passive: { failures: 3, cooldownMs: 10000 },
        groups: { api: { balance: 'least-connections', backends: [{ url: 'https://127.0.0.1:4001/v1' }] } },
        routes: [
          { host: 'api.local', pathPrefix: '/', backends: [{ url: 'http://127.0.0.1:3003' }] },
          { host: '*.example.com', pathPrefix: '/api', group: 'api', stripPrefix: true },
          { pathPrefix: '/static', group: 'default' },
        ],
        defaultGroup: 'default',
        forwarded: { anonymize: true },
        hostHeader: 'rewrite',
        tls: { enabled: false, certs: [] },
      }),
    ).toEqual([]);
  });

  it.each<[unknown, string]>([
    [{ backends: [{ url: 'ftp://x' }] }, 'reverse.backends[0].url: expected an http:// or https:// URL (got ftp://)'],
    [{ backends: [{ url: 'http://127.0.0.1:1/?q' }] }, 'reverse.backends[0].url: a backend URL takes no query or fragment (a path prefix is fine)'],
    [{ backends: [{ url: 'http://u:p@127.0.0.1:1' }] }, 'reverse.backends[0].url: credentials in a backend URL are not supported'],
    [{ balance: 'random' }, 'reverse.balance: expected round-robin, weighted, least-connections or ip-hash'],
    [{ health: { path: 'healthz' } }, 'reverse.health.path: expected a path starting with /'],
    [{ routes: [{ host: 'api.local:8080', group: 'x' }] }, 'reverse.routes[0].host: expected a host name like api.local or *.example.com (no port)'],
    [{ routes: [{ host: 'a.local' }] }, 'reverse.routes[0]: expected either backends or group (exactly one)'],
    [{ groups: { api: { backends: [{ url: 'http://127.0.0.1:1' }] } }, routes: [{ group: 'apii' }] }, 'reverse.routes[0].group: no group named "apii" (groups: api)'],
    [{ defaultGroup: 'web' }, 'reverse.defaultGroup: no group named "web" (groups: none defined)'],
    [{ backends: [{ url: 'http://127.0.0.1:1' }], groups: { default: { backends: [{ url: 'http://127.0.0.1:2' }] } } }, 'reverse.groups.default: "default" is the group of reverse.backends; pick another name'],
    [{ hostHeader: 'drop' }, 'reverse.hostHeader: expected keep or rewrite'],
    [{ groups: { api: { backends: [] } } }, 'reverse.groups.api.backends: expected at least one backend'],
  ])('refuses %j naming the field', (reverse, message) => {
    expect(problems(reverse)).toContain(message);
  });
});

describe('resolveReverseSettings', () => {
  it('makes the default group from the mode URLs, with weights from the config and its health', () => {
    const r = resolveReverseSettings(['http://127.0.0.1:3001', 'http://127.0.0.1:3002/'], section({ balance: 'weighted', backends: [{ url: 'http://127.0.0.1:3002', weight: 3 }], health: { intervalMs: 100 }, routes: [{ group: 'default' }] }));
    expect(r.settings.groups).toEqual([
      {
        name: 'default',
        balance: 'weighted',
        backends: [
          { url: 'http://127.0.0.1:3001', weight: 1 },
          { url: 'http://127.0.0.1:3002/', weight: 3 },
        ],
        health: { path: '/', intervalMs: 100, timeoutMs: 1000, unhealthyAfter: 2, healthyAfter: 2 },
        passive: { failures: 3, cooldownMs: 10000 },
      },
    ]);
    expect(r.settings.routes).toEqual([]);
    expect(r.settings.defaultGroup).toBe('default');
    expect(r.notes.join('\n')).toMatch(/reverse.routes and reverse.groups are not used/);
  });

  it('resolves groups, inline route groups and the default from the section', () => {
    const r = resolveReverseSettings(
      [],
      section({
        balance: 'ip-hash',
        health: { path: '/healthz' },
        groups: { api: { balance: 'least-connections', backends: [{ url: 'http://127.0.0.1:4001' }], health: { intervalMs: 500 }, passive: { failures: 0 } } },
        routes: [
          { host: 'api.local', group: 'api' },
          { host: 'web.local', pathPrefix: '/app', backends: [{ url: 'http://127.0.0.1:5001' }], stripPrefix: true },
          { host: 'web.local', pathPrefix: '/app', backends: [{ url: 'http://127.0.0.1:5002' }] },
        ],
        defaultGroup: 'api',
        forwarded: { anonymize: true },
        hostHeader: 'rewrite',
      }),
    );
    const s = r.settings;
    expect(s.groups.map((g) => [g.name, g.balance, g.health?.path, g.health?.intervalMs, g.passive.failures])).toEqual([
      ['api', 'least-connections', '/healthz', 500, 0],
      ['web.local/app', 'ip-hash', '/healthz', 2000, 3],
      ['web.local/app#2', 'ip-hash', '/healthz', 2000, 3],
    ]);
    expect(s.routes).toEqual([
      { host: 'api.local', pathPrefix: '/', group: 'api', stripPrefix: false },
      { host: 'web.local', pathPrefix: '/app', group: 'web.local/app', stripPrefix: true },
      { host: 'web.local', pathPrefix: '/app', group: 'web.local/app#2', stripPrefix: false },
    ]);
    expect(s.defaultGroup).toBe('api');
    expect(s.forwarded).toEqual({ enabled: true, anonymize: true });
    expect(s.hostHeader).toBe('rewrite');
    expect(r.notes).toEqual([]);
  });

  it('has no active checks without a health section, and no default without backends or defaultGroup', () => {
    const r = resolveReverseSettings([], section({ routes: [{ host: 'a.local', backends: [{ url: 'http://127.0.0.1:1' }] }] }));
    expect(r.settings.groups[0]!.health).toBeNull();
    expect(r.settings.defaultGroup).toBeNull();
  });

  it('refuses bare reverse mode without backends, and bad mode URLs, naming them', () => {
    expect(() => resolveReverseSettings([], undefined)).toThrow(/reverse mode needs backends: --mode reverse:URL/);
    expect(() => resolveReverseSettings([], section({ health: { path: '/' } }))).toThrow(/reverse mode needs backends/);
    expect(() => resolveReverseSettings(['http://127.0.0.1:1', 'http://127.0.0.1:2/x?y'], undefined)).toThrow('--mode reverse: backend 2 "http://127.0.0.1:2/x?y": a backend URL takes no query or fragment');
  });
});
