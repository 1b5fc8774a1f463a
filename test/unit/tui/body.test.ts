import { describe, expect, it } from 'vitest';
import { bodyView, looksLikeText, type BodyKind } from '../../../src/tui/body/body-doc.js';
import { hexDoc, hexRow } from '../../../src/tui/body/hex.js';
import { imageInfo, type ImageInfo } from '../../../src/tui/body/image.js';
import { jsonHighlight, prettyJson } from '../../../src/tui/body/json.js';
import { indentMarkup, markupHighlight } from '../../../src/tui/body/markup.js';
import { multipartBoundary, parseMultipart } from '../../../src/tui/body/multipart.js';
import { formPairs, tableLines } from '../../../src/tui/body/table.js';
import { lineText, type Doc } from '../../../src/tui/doc.js';

const all = (doc: Doc) => Array.from({ length: doc.length }, (_, i) => doc.text(i));

describe('prettyJson', () => {
  it.each<[string, string | null]>([
    ['{"a":1,"b":[true,null,"x"]}', '{\n  "a": 1,\n  "b": [\n    true,\n    null,\n    "x"\n  ]\n}'],
    ['{}', '{}'],
    ['[ ]', '[]'],
    ['{"a":{}}', '{\n  "a": {}\n}'],
    ['12345678901234567890', '12345678901234567890'],
    ['{"id":12345678901234567890}', '{\n  "id": 12345678901234567890\n}'],
    ['{"s":"a,b:{c}\\"q"}', '{\n  "s": "a,b:{c}\\"q"\n}'],
    ['  "text"  ', '"text"'],
    ['{"a":', null],
    ['hello', null],
    ['', null],
  ])('%j', (input, out) => expect(prettyJson(input)).toBe(out));
});

describe('jsonHighlight', () => {
  it('colours keys, strings, numbers, literals and punctuation', () => {
    const line = jsonHighlight('  "key": "value", "n": -1.5e3, "t": true');
    const byRole = (role: string) => line.filter((s) => s.role === role).map((s) => s.text);
    expect(byRole('key')).toEqual(['"key"', '"n"', '"t"']);
    expect(byRole('string')).toEqual(['"value"']);
    expect(byRole('number')).toEqual(['-1.5e3']);
    expect(byRole('literal')).toEqual(['true']);
    expect(lineText(line)).toBe('  "key": "value", "n": -1.5e3, "t": true');
  });
});

describe('markup', () => {
  it('indents XML', () => {
    expect(indentMarkup('<?xml version="1.0"?><a><b x="1">text</b><c/><d><e>1</e></d></a>', false)).toBe(
      '<?xml version="1.0"?>\n<a>\n  <b x="1">text</b>\n  <c/>\n  <d>\n    <e>1</e>\n  </d>\n</a>',
    );
  });
  it('indents HTML with void elements and keeps script bodies', () => {
    const html = '<!DOCTYPE html><html><head><meta charset="utf-8"><script>if (a < b) { x(); }\nmore();</script></head><body><p>Hi<br>there</p></body></html>';
    expect(indentMarkup(html, true).split('\n')).toEqual([
      '<!DOCTYPE html>',
      '<html>',
      '  <head>',
      '    <meta charset="utf-8">',
      '    <script>',
      '      if (a < b) { x(); }',
      '      more();',
      '    </script>',
      '  </head>',
      '  <body>',
      '    <p>',
      '      Hi',
      '      <br>',
      '      there',
      '    </p>',
      '  </body>',
      '</html>',
    ]);
  });
  it('highlights tags and attributes', () => {
    const line = markupHighlight('<a href="x">link</a>');
    expect(line.filter((s) => s.role === 'tag').map((s) => s.text)).toEqual(['a', 'a']);
    expect(line.filter((s) => s.role === 'attr').map((s) => s.text)).toEqual(['href']);
    expect(line.filter((s) => s.role === 'string').map((s) => s.text)).toEqual(['"x"']);
    expect(lineText(line)).toBe('<a href="x">link</a>');
  });
});

describe('forms and tables', () => {
  it('decodes urlencoded pairs in order, with repeats', () => {
    expect(formPairs('a=1&b=two+words&a=%E2%9C%93&empty=')).toEqual([
      ['a', '1'],
      ['b', 'two words'],
      ['a', '✓'],
      ['empty', ''],
    ]);
  });
  it('lays out a two-column table, wrapping long values', () => {
    const lines = tableLines([['name', 'v'], ['longer-name', 'x'.repeat(30)]], 36).map(lineText);
    expect(lines).toEqual(['name         v', `longer-name  ${'x'.repeat(23)}`, `             ${'x'.repeat(7)}`]);
  });
  it('caps the name column at a third of the pane', () => {
    const lines = tableLines([['a-very-long-header-name', 'v']], 30).map((l) => lineText(l).trimEnd());
    expect(lines).toEqual(['a-very-lon  v', 'g-header-n', 'ame']);
  });
});

describe('multipart', () => {
  const body = Buffer.from(
    [
      'preamble',
      '--XyZ',
      'Content-Disposition: form-data; name="field"',
      '',
      'value one',
      '--XyZ',
      'Content-Disposition: form-data; name="file"; filename="a.png"',
      'Content-Type: image/png',
      '',
      'PNGDATA',
      '--XyZ--',
      '',
    ].join('\r\n'),
  );
  it.each([
    ['multipart/form-data; boundary=XyZ', 'XyZ'],
    ['multipart/form-data; boundary="a b"', 'a b'],
    ['multipart/form-data', null],
  ])('boundary of %s', (ct, b) => expect(multipartBoundary(ct)).toBe(b));

  it('splits parts with their headers', () => {
    const parts = parseMultipart(body, 'XyZ');
    expect(parts).toHaveLength(2);
    expect(parts[0]!.headers).toEqual([['Content-Disposition', 'form-data; name="field"']]);
    expect(parts[0]!.body.toString()).toBe('value one');
    expect(parts[1]!.headers[1]).toEqual(['Content-Type', 'image/png']);
    expect(parts[1]!.body.toString()).toBe('PNGDATA');
    expect(parts.every((p) => !p.incomplete)).toBe(true);
  });

  it('marks the last part of a cut body incomplete', () => {
    const parts = parseMultipart(body.subarray(0, body.indexOf('PNGDATA') + 3), 'XyZ');
    expect(parts).toHaveLength(2);
    expect(parts[1]!.incomplete).toBe(true);
  });

  it('renders a summary per part', () => {
    const view = bodyView(body, 'multipart/form-data; boundary=XyZ', 80);
    expect(view.kind).toBe('multipart');
    const text = all(view.doc).join('\n');
    expect(text).toContain('part 1/2 · name=field · 9 B');
    expect(text).toContain('value one');
    expect(text).toContain('part 2/2 · name=file · file=a.png · 7 B');
    expect(text).toMatch(/Content-Type +image\/png/);
  });
});

describe('hex', () => {
  it('formats rows like hexdump -C', () => {
    expect(hexRow(Buffer.from('Hello, world!\n\x00\xff'), 0, 16)).toBe('00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a 00 c3  |Hello, world!...|');
    expect(hexRow(Buffer.from('abc'), 0, 8)).toBe(`00000000  61 62 63${' '.repeat(18)}|abc|`);
    expect(hexRow(Buffer.from('abcdefgh'), 0, 8)).toBe('00000000  61 62 63 64  65 66 67 68  |abcdefgh|');
  });
  it('pages rows lazily and narrows for small panes', () => {
    const doc = hexDoc(Buffer.alloc(1000, 0x41), 80);
    expect(doc.length).toBe(63);
    expect(doc.text(62)).toMatch(/^000003e0  41/);
    expect(hexDoc(Buffer.alloc(16), 60).length).toBe(2);
  });
});

/** Minimal image headers. */
function png(w: number, h: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  return b;
}
function gif(w: number, h: number): Buffer {
  const b = Buffer.alloc(13);
  b.write('GIF89a', 0, 'latin1');
  b.writeUInt16LE(w, 6);
  b.writeUInt16LE(h, 8);
  return b;
}
function jpeg(w: number, h: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sof = Buffer.alloc(19);
  sof.writeUInt16BE(0xffc2, 0); // progressive
  sof.writeUInt16BE(17, 2);
  sof[4] = 8;
  sof.writeUInt16BE(h, 5);
  sof.writeUInt16BE(w, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof]);
}
function webp(kind: 'VP8 ' | 'VP8L' | 'VP8X', w: number, h: number): Buffer {
  const b = Buffer.alloc(40);
  b.write('RIFF', 0, 'latin1');
  b.write('WEBP', 8, 'latin1');
  b.write(kind, 12, 'latin1');
  if (kind === 'VP8 ') {
    b[23] = 0x9d;
    b[24] = 0x01;
    b[25] = 0x2a;
    b.writeUInt16LE(w, 26);
    b.writeUInt16LE(h, 28);
  } else if (kind === 'VP8L') {
    b[20] = 0x2f;
    b.writeUInt32LE(((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14), 21);
  } else {
    b.writeUIntLE(w - 1, 24, 3);
    b.writeUIntLE(h - 1, 27, 3);
  }
  return b;
}

describe('imageInfo', () => {
  it.each<[string, Buffer, ImageInfo | null]>([
    ['PNG', png(640, 480), { type: 'png', width: 640, height: 480 }],
    ['GIF', gif(16, 9), { type: 'gif', width: 16, height: 9 }],
    ['JPEG (after an APP0 segment)', jpeg(1920, 1080), { type: 'jpeg', width: 1920, height: 1080 }],
    ['WebP lossy', webp('VP8 ', 300, 200), { type: 'webp', width: 300, height: 200 }],
    ['WebP lossless', webp('VP8L', 1024, 768), { type: 'webp', width: 1024, height: 768 }],
    ['WebP extended', webp('VP8X', 4000, 3000), { type: 'webp', width: 4000, height: 3000 }],
    ['not an image', Buffer.from('hello world, this is text'), null],
    ['a truncated JPEG', jpeg(10, 10).subarray(0, 12), null],
  ])('%s', (_name, bytes, info) => expect(imageInfo(bytes)).toEqual(info));
});

describe('bodyView', () => {
  it.each<[string, Buffer, string | undefined, BodyKind, string]>([
    ['empty', Buffer.alloc(0), 'text/plain', 'empty', '(empty body)'],
    ['JSON by type', Buffer.from('{"a":[1]}'), 'application/json', 'json', '"a": ['],
    ['JSON sniffed without a type', Buffer.from('[1,2]'), undefined, 'json', '  1,'],
    ['invalid JSON shown as text', Buffer.from('{"a":'), 'application/json', 'text', '{"a":'],
    ['form', Buffer.from('q=proxy+ctl&n=1'), 'application/x-www-form-urlencoded', 'form', 'q  proxy ctl'],
    ['HTML', Buffer.from('<html><body><p>x</p></body></html>'), 'text/html; charset=utf-8', 'html', '    <p>x</p>'],
    ['XML', Buffer.from('<a><b>1</b></a>'), 'application/xml', 'xml', '  <b>1</b>'],
    ['image', png(2, 3), 'image/png', 'image', 'PNG image, 2×3 px, 33 B'],
    ['image with unknown dimensions', Buffer.from('xx'), 'image/avif', 'image', 'image/avif (dimensions unknown)'],
    ['binary', Buffer.from([0, 1, 2, 3, 0xfe]), 'application/octet-stream', 'hex', '00000000  00 01 02 03 fe'],
    ['binary without a type', Buffer.from([0, 1, 2, 3]), undefined, 'hex', '00000000  00 01'],
    ['text', Buffer.from('line 1\nline 2'), 'text/plain', 'text', 'line 2'],
    ['latin-1 text', Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'text/plain; charset=iso-8859-1', 'text', 'café'],
    ['terminal escapes are neutralized', Buffer.from('a\x1b[31mred'), 'text/plain', 'text', 'a·[31mred'],
  ])('%s', (_name, bytes, ct, kind, contains) => {
    const view = bodyView(bytes, ct, 80);
    expect(view.kind).toBe(kind);
    expect(all(view.doc).join('\n')).toContain(contains);
  });

  it('wraps long lines to the pane and keeps big bodies lazy', () => {
    const text = 'y'.repeat(250);
    const view = bodyView(Buffer.from(text), 'text/plain', 100);
    expect(view.doc.length).toBe(3);
    expect(view.doc.text(2)).toBe('y'.repeat(50));
    const big = bodyView(Buffer.from('{"k":"v"},'.repeat(1).padEnd(4 * 1024 * 1024, ' ')), 'application/json', 80);
    expect(big.doc.length).toBeGreaterThan(0);
  });

  it.each([
    [Buffer.from('plain ascii'), true],
    [Buffer.from('ünïcødé ✓'), true],
    [Buffer.from([0x00, 0x41]), false],
    [Buffer.from([0xff, 0xfe, 0xfd, 0x80, 0x81]), false],
  ])('looksLikeText(%j) → %s', (b, out) => expect(looksLikeText(b)).toBe(out));
});
