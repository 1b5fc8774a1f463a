import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configSchema, formatIssues, modeSchema, ruleSchema } from '../../../src/config/schema.js';
import { DESIGN_CONFIG } from '../../helpers/design-config.js';

/** Parse and return the formatted issues (empty when valid). */
function issues(input: unknown): string[] {
  const r = configSchema.safeParse(input);
  return r.success ? [] : formatIssues(r.error);
}

describe('configSchema', () => {
  it('accepts the full config of DESIGN.md §7', () => {
    const r = configSchema.safeParse(parseYaml(DESIGN_CONFIG));
    if (!r.success) throw new Error(formatIssues(r.error).join('\n'));
    const c = r.data;
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.access?.allow).toEqual(['127.0.0.1/32', '::1/128']);
    expect(c.admin?.port).toBeNull();
    expect(c.rules?.map((rule) => rule.type)).toEqual(['block', 'breakpoint', 'map-remote', 'map-local', 'mock', 'rewrite', 'rate-limit', 'throttle', 'command']);
    expect(c.rules?.[1]).toMatchObject({ on: ['request', 'response'], timeoutMs: null, onTimeout: 'continue', enabled: true });
    expect(c.rules?.[5]).toMatchObject({ replace: null });
    expect(c.reverse?.routes?.[0]?.backends).toEqual([{ url: 'http://127.0.0.1:3003', weight: 1 }]);
  });

  it('accepts an empty config (every key optional)', () => {
    expect(configSchema.parse({})).toEqual({});
  });

  it.each<[string, unknown, string]>([
    // [case, input, the one expected issue line]
    [
      'a rule status out of range names its index and field',
      { rules: [{ type: 'block', filter: '~d a' }, { type: 'mock', filter: '~u b' }, { type: 'block', filter: '~d c', status: 999 }] },
      'rules[2].status: expected a number between 100 and 599',
    ],
    ['a mock status below 100', { rules: [{ type: 'mock', filter: 'x', status: 99 }] }, 'rules[0].status: expected a number between 100 and 599'],
    ['a port out of range', { listen: { port: 70000 } }, 'listen.port: expected a port between 0 and 65535'],
    ['a negative admin port', { admin: { port: -1 } }, 'admin.port: expected a port between 0 and 65535'],
    ['an unknown mode', { mode: 'transparent' }, 'mode: expected regular, reverse:URL[,URL…], upstream:URL or socks5'],
    ['an empty filter', { rules: [{ type: 'block', filter: '' }] }, 'rules[0].filter: expected a filter expression'],
    ['a command without a program', { rules: [{ type: 'command', filter: 'x', argv: [] }] }, 'rules[0].argv: expected at least the program name'],
    // Filters are parsed when the config is: the error points at the column.
    ['a filter that does not parse', { rules: [{ type: 'block', filter: '~d a' }, { type: 'block', filter: '~d a & (~m GET' }] }, 'rules[1].filter: unclosed ( at column 8'],
    ['an unknown filter', { rules: [{ type: 'mock', filter: '~zz' }] }, 'rules[0].filter: unknown filter ~zz at column 1'],
    ['a filter with a bad regex', { rules: [{ type: 'breakpoint', filter: '~u [' }] }, 'rules[0].filter: invalid regular expression after ~u: unterminated character class at column 4'],
    ['a blank filter', { rules: [{ type: 'throttle', filter: '   ' }] }, 'rules[0].filter: expected a filter expression'],
    // Rewrite patterns compile as JavaScript regexes.
    [
      'a rewrite match that is not a regex',
      { rules: [{ type: 'rewrite', filter: '~s', part: 'response-header', match: '(', replace: null }] },
      'rules[0].match: expected a JavaScript regular expression (Unterminated group)',
    ],
    [
      'a rewrite value that is not a regex',
      { rules: [{ type: 'rewrite', filter: '~s', part: 'request-header', match: 'cookie', value: 'a[', replace: 'x' }] },
      'rules[0].value: expected a JavaScript regular expression (Unterminated character class)',
    ],
    [
      'a value pattern on a body rewrite',
      { rules: [{ type: 'rewrite', filter: '~s', part: 'response-body', match: 'a', value: 'b', replace: null }] },
      'rules[0].value: only header rewrites take a value pattern',
    ],
    // Access lists.
    ['an access range that is not one', { access: { allow: ['office'] } }, 'access.allow[0]: expected an IP address or CIDR range like 10.0.0.0/8'],
    ['a prefix too long', { access: { deny: ['10.0.0.0/8', '::1/129'] } }, 'access.deny[1]: expected a prefix length from 0 to 128 after the / in ::1/129'],
    // map-remote goes to http(s) only.
    ['a map-remote target of another scheme', { rules: [{ type: 'map-remote', filter: 'x', to: 'ftp://files.example' }] }, 'rules[0].to: expected an http:// or https:// URL'],
    ['the message for a map-remote target that is not a URL', { rules: [{ type: 'map-remote', filter: 'x', to: 'not a url' }] }, 'rules[0].to: expected an http:// or https:// URL'],
    ['a command status out of range', { rules: [{ type: 'command', filter: 'x', argv: ['cat'], status: 600 }] }, 'rules[0].status: expected a number between 100 and 599'],
  ])('refuses %s', (_name, input, expected) => {
    expect(issues(input)).toEqual([expected]);
  });

  it.each<[string, unknown, RegExp]>([
    ['a wrong type', { noCache: 'yes' }, /^noCache: /],
    ['a map-remote target that is not a URL', { rules: [{ type: 'map-remote', filter: 'x', to: 'not a url' }] }, /^rules\[0\]\.to: /],
    ['an unknown rule type', { rules: [{ type: 'teleport', filter: 'x' }] }, /^rules\[0\]\.type: /],
    ['a bad access-log format', { accessLog: { format: 'xml' } }, /^accessLog\.format: /],
    ['a bad balance', { reverse: { balance: 'random' } }, /^reverse\.balance: /],
    ['a bad backend weight', { reverse: { backends: [{ url: 'http://a', weight: 0 }] } }, /^reverse\.backends\[0\]\.weight: /],
    ['a breakpoint on nothing', { rules: [{ type: 'breakpoint', filter: 'x', on: [] }] }, /^rules\[0\]\.on: /],
    ['a non-object root', 42, /^\(root\): /],
  ])('names the field for %s', (_name, input, pattern) => {
    const lines = issues(input);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
  });

  it('reports every issue, one line each', () => {
    expect(issues({ listen: { port: -5 }, mode: 'x', rules: [{ type: 'block', filter: 'x', status: 1 }] })).toEqual([
      'listen.port: expected a port between 0 and 65535',
      'mode: expected regular, reverse:URL[,URL…], upstream:URL or socks5',
      'rules[0].status: expected a number between 100 and 599',
    ]);
  });

  describe('unknown keys are refused, naming where they are', () => {
    it.each<[string, unknown, string, string]>([
      // [case, input, path the line starts with, the unknown key]
      ['at the root', { listn: {} }, 'listn', 'listn'],
      ['in listen', { listen: { host: 'h', prot: 1 } }, 'listen', 'prot'],
      ['in upstream', { upstream: { insecure: true, verify: false } }, 'upstream', 'verify'],
      ['in a proxyAuth user', { proxyAuth: { users: [{ user: 'a', password: 'b', role: 'x' }] } }, 'proxyAuth.users[0]', 'role'],
      ['in reverse.health', { reverse: { health: { path: '/h', retries: 3 } } }, 'reverse.health', 'retries'],
      ['in reverse.tls.certs', { reverse: { tls: { certs: [{ serverName: 'a', cert: 'c', key: 'k', chain: 'x' }] } } }, 'reverse.tls.certs[0]', 'chain'],
      // A typo in a rule must not silently fall back to the default (`stauts` → status 403).
      ['in a rule', { rules: [{ type: 'block', filter: '~d x', stauts: 404 }] }, 'rules[0]', 'stauts'],
      ['in a mock rule', { rules: [{ type: 'mock', filter: 'x', header: { a: 'b' } }] }, 'rules[0]', 'header'],
      ['in a reverse backend', { reverse: { backends: [{ url: 'http://a', wieght: 2 }] } }, 'reverse.backends[0]', 'wieght'],
      ['in a reverse route backend', { reverse: { routes: [{ backends: [{ url: 'http://a', weigth: 2 }] }] } }, 'reverse.routes[0].backends[0]', 'weigth'],
    ])('%s', (_name, input, path, key) => {
      const lines = issues(input);
      expect(lines, `accepted ${JSON.stringify(input)}`).toHaveLength(1);
      expect(lines[0]!.startsWith(`${path}`)).toBe(true);
      expect(lines[0]).toContain(key);
    });
  });
});

describe('ruleSchema defaults', () => {
  it.each<[string, unknown, Record<string, unknown>]>([
    ['block', { type: 'block', filter: 'x' }, { status: 403, action: 'respond', enabled: true }],
    ['block drop', { type: 'block', filter: 'x', action: 'drop' }, { action: 'drop' }],
    ['breakpoint', { type: 'breakpoint', filter: 'x' }, { on: ['request'], timeoutMs: null, onTimeout: 'continue', enabled: true }],
    ['mock', { type: 'mock', filter: 'x' }, { status: 200, headers: {}, body: '', enabled: true }],
    ['throttle', { type: 'throttle', filter: 'x' }, { latencyMs: 0, bytesPerSecond: null }],
    ['command', { type: 'command', filter: 'x', argv: ['cat'] }, { timeoutMs: 60000, status: 200, headers: {} }],
    ['command with a status and headers', { type: 'command', filter: 'x', argv: ['cat'], status: 201, headers: { 'content-type': 'audio/mpeg' } }, { status: 201, headers: { 'content-type': 'audio/mpeg' } }],
    ['rewrite without a value pattern', { type: 'rewrite', filter: '~s', part: 'response-header', match: '^server$', replace: null }, { replace: null, enabled: true }],
    ['rewrite with a value pattern', { type: 'rewrite', filter: '~q', part: 'request-header', match: '^cookie$', value: 'session=\\w+', replace: 'session=x' }, { value: 'session=\\w+' }],
    ['map-remote to https with a path', { type: 'map-remote', filter: 'x', to: 'https://staging.example:8443/v2?debug=1' }, { to: 'https://staging.example:8443/v2?debug=1' }],
    ['disabled rule', { type: 'map-local', filter: 'x', path: './p', enabled: false }, { enabled: false }],
  ])('%s', (_name, input, expected) => {
    expect(ruleSchema.parse(input)).toMatchObject(expected);
  });
});

describe('modeSchema', () => {
  it.each<[string, boolean]>([
    ['regular', true],
    ['socks5', true],
    ['reverse:http://127.0.0.1:3000', true],
    ['reverse:http://a:1,http://b:2', true],
    ['upstream:http://proxy:3128', true],
    ['reverse:', false],
    ['upstream:', false],
    ['Regular', false],
    ['transparent', false],
    ['', false],
  ])('%j → %s', (mode, ok) => {
    expect(modeSchema.safeParse(mode).success).toBe(ok);
  });
});

describe('access lists', () => {
  it.each<[string[]]>([[['127.0.0.1/32', '::1/128']], [['10.0.0.1', 'fe80::/10', '::ffff:192.168.0.0/112', '0.0.0.0/0']], [[]]])('accepts %j', (allow) => {
    expect(issues({ access: { allow, deny: allow } })).toEqual([]);
  });
});

describe('formatIssues', () => {
  it('joins paths with dots and brackets and names the root', () => {
    const r = configSchema.safeParse({ proxyAuth: { users: [{ user: 'a', password: 'p' }, { user: '', password: 'p' }] } });
    expect(r.success).toBe(false);
    if (!r.success) expect(formatIssues(r.error)[0]).toMatch(/^proxyAuth\.users\[1\]\.user: /);
  });
});
