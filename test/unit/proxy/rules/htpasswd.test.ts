import { describe, expect, it } from 'vitest';
import { constantTimeEqual, md5Crypt, parseHtpasswd, verifyPassword, type HtpasswdEntry } from '../../../../src/proxy/rules/htpasswd.js';

/** Vectors made with `openssl passwd -apr1 -salt SALT PASS` / `openssl passwd -1` (OpenSSL 3.0). */
const MD5_VECTORS: Array<[string, string, '$apr1$' | '$1$', string]> = [
  ['PASS', 'SALT', '$apr1$', '$apr1$SALT$0NCArlDjo66YcnLIFJluC/'],
  ['pässwörd', 'abcdefgh', '$apr1$', '$apr1$abcdefgh$030j6I3f1zNCF9tihqdd11'],
  ['', 'x', '$apr1$', '$apr1$x$tMwYqBfQwi3FYAr0aJc8M/'],
  ['a-much-longer-password-over-16-bytes!', '12345678', '$apr1$', '$apr1$12345678$BG4aSlOelhx.c6jJlPLJ20'],
  ['password', 'saltsalt', '$1$', '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/'],
];

describe('md5Crypt', () => {
  it.each(MD5_VECTORS)('%j with salt %s (%s)', (password, salt, magic, expected) => {
    expect(md5Crypt(Buffer.from(password, 'utf8'), salt, magic)).toBe(expected);
  });
});

describe('parseHtpasswd', () => {
  it('reads SHA-1, apr1 and MD5-crypt lines, skipping blanks and comments', () => {
    const text = [
      '# users',
      'alice:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=',
      '',
      'bob:$apr1$SALT$0NCArlDjo66YcnLIFJluC/',
      '  carol:$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/  ',
      'dave:$apr1$x$tMwYqBfQwi3FYAr0aJc8M/:a comment field',
    ].join('\r\n');
    const { entries, problems } = parseHtpasswd(text);
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.user, e.scheme, e.line])).toEqual([
      ['alice', 'sha1', 2],
      ['bob', 'apr1', 4],
      ['carol', 'md5-crypt', 5],
      ['dave', 'apr1', 6],
    ]);
    expect(entries[3]!.hash).toBe('$apr1$x$tMwYqBfQwi3FYAr0aJc8M/');
  });

  it.each<[string, string, RegExp]>([
    ['no colon', 'alice', /^line 1: expected user:hash$/],
    ['no user', ':{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=', /^line 1: expected user:hash$/],
    ['an empty hash', 'alice:', /^line 1: user alice: empty password hash$/],
    ['plain text', 'alice:secret', /^line 1: user alice: plain-text passwords .* refused .*Windows/],
    ['a DES crypt hash', 'alice:rqXexS6ZhobKA', /^line 1: user alice: plain-text passwords and crypt\(\) DES hashes are refused/],
    ['bcrypt $2y$', 'alice:$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC', /^line 1: user alice: bcrypt hashes .* not supported/],
    ['bcrypt $2b$', 'alice:$2b$04$nTth956zG9K1Vuqf1w6H3un9H21LPQAy5.crgY4KKMLYcWgrwWIii', /bcrypt hashes/],
    ['SHA-512 crypt', 'alice:$6$salt$abc', /^line 1: user alice: SHA-crypt hashes/],
    ['an unknown $ scheme', 'alice:$9$x$y', /^line 1: user alice: unknown hash format \$9\$$/],
    ['a short {SHA}', 'alice:{SHA}abc=', /malformed \{SHA\} hash/],
    ['a short apr1 hash', 'alice:$apr1$SALT$0NCArlDjo66Ycn', /malformed \$apr1\$ hash/],
    ['an apr1 salt over 8 characters', 'alice:$apr1$123456789$0NCArlDjo66YcnLIFJluC/', /malformed \$apr1\$ hash/],
  ])('refuses %s, naming the line', (_n, line, problem) => {
    const { entries, problems } = parseHtpasswd(line);
    expect(entries).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });

  it('keeps the good lines when others are bad, and numbers lines as in the file', () => {
    const { entries, problems } = parseHtpasswd('# c\nalice:secret\nbob:$apr1$SALT$0NCArlDjo66YcnLIFJluC/\n\nbob:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n');
    expect(entries.map((e) => e.user)).toEqual(['bob']);
    expect(problems).toEqual([expect.stringMatching(/^line 2: user alice: /), 'line 5: user bob is listed again (line 3 is used)']);
  });

  it('reads an empty file as no users', () => {
    expect(parseHtpasswd('')).toEqual({ entries: [], problems: [] });
  });
});

describe('verifyPassword', () => {
  const entry = (hash: string): HtpasswdEntry => {
    const { entries, problems } = parseHtpasswd(`u:${hash}`);
    expect(problems).toEqual([]);
    return entries[0]!;
  };

  it.each<[string, string, string, boolean]>([
    ['{SHA} right', '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=', 'secret', true],
    ['{SHA} wrong', '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=', 'Secret', false],
    ['{SHA} empty', '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=', '', false],
    ['apr1 right', '$apr1$SALT$0NCArlDjo66YcnLIFJluC/', 'PASS', true],
    ['apr1 wrong', '$apr1$SALT$0NCArlDjo66YcnLIFJluC/', 'PASS ', false],
    ['apr1 UTF-8', '$apr1$abcdefgh$030j6I3f1zNCF9tihqdd11', 'pässwörd', true],
    ['apr1 Latin-1 lookalike', '$apr1$abcdefgh$030j6I3f1zNCF9tihqdd11', 'passwoerd', false],
    ['apr1 empty password', '$apr1$x$tMwYqBfQwi3FYAr0aJc8M/', '', true],
    ['MD5-crypt right', '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/', 'password', true],
    ['MD5-crypt wrong', '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/', 'passwore', false],
  ])('%s', (_n, hash, password, ok) => {
    expect(verifyPassword(entry(hash), password)).toBe(ok);
  });

  it.each<[string, string, boolean]>([
    ['same', 'same', true],
    ['a', 'b', false],
    ['short', 'a much longer string', false],
    ['', '', true],
  ])('constantTimeEqual(%j, %j) compares strings of any length without throwing', (a, b, eq) => {
    expect(constantTimeEqual(a, b)).toBe(eq);
  });
});
