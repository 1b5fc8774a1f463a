import { describe, expect, it } from 'vitest';
import { exportChooserLines } from '../../../src/tui/components/export-chooser.js';
import { lineText } from '../../../src/tui/doc.js';
import { describeExport } from '../../../src/tui/export/export-commands.js';
import { RedactionReport } from '../../../src/export/redact.js';
import { screenLayout } from '../../../src/tui/layout.js';
import {
  defaultExportPath,
  defaultScope,
  describeScope,
  exportReducer,
  exportStamp,
  type ExportAction,
  type ExportState,
} from '../../../src/tui/state/export-state.js';

const counts = (marked: number, view: number, selected: number) => ({ marked, view, selected });
const open = (c = counts(2, 5, 1)): ExportState => exportReducer(null, { type: 'open', counts: c, stamp: '20240101-120000' })!;

describe('exportReducer', () => {
  it.each<[string, ReturnType<typeof counts>, ExportState['scope'] | null]>([
    ['marked flows win', counts(2, 5, 1), 'marked'],
    ['else the view', counts(0, 5, 1), 'view'],
    ['else the selected flow', counts(0, 0, 1), 'selected'],
    ['nothing at all: no prompt', counts(0, 0, 0), null],
  ])('opens on the default scope: %s', (_name, c, scope) => {
    expect(defaultScope(c)).toBe(scope);
    const s = exportReducer(null, { type: 'open', counts: c, stamp: 'x' });
    if (scope === null) expect(s).toBeNull();
    else expect(s).toMatchObject({ step: 'format', format: 'har', scope });
  });

  it.each<[string, ExportState, ExportAction, Partial<ExportState>]>([
    ['→ moves the highlight', open(), { type: 'move', delta: 1 }, { format: 'curl' }],
    ['← wraps to the last format', open(), { type: 'move', delta: -1 }, { format: 'vitest' }],
    ['a format goes on to the file name', open(), { type: 'choose', format: 'nock' }, { step: 'path', format: 'nock' }],
    ['Tab: marked → view', open(), { type: 'scope-next' }, { scope: 'view' }],
    ['Tab: view → selected', { ...open(), scope: 'view' }, { type: 'scope-next' }, { scope: 'selected' }],
    ['Tab skips empty scopes', open(counts(0, 3, 0)), { type: 'scope-next' }, { scope: 'view' }],
    ['Tab: selected → marked', { ...open(), scope: 'selected' }, { type: 'scope-next' }, { scope: 'marked' }],
  ])('%s', (_name, state, action, expected) => {
    expect(exportReducer(state, action)).toMatchObject(expected);
  });

  it('closes, and ignores actions when closed', () => {
    expect(exportReducer(open(), { type: 'close' })).toBeNull();
    expect(exportReducer(null, { type: 'move', delta: 1 })).toBeNull();
  });
});

describe('export naming', () => {
  it.each([
    ['har', './proxyctl-export-20240101-120000.har'],
    ['curl', './proxyctl-export-20240101-120000.sh'],
    ['raw', './proxyctl-export-20240101-120000.http'],
    ['nock', './proxyctl-export-20240101-120000.json'],
    ['msw', './proxyctl-export-20240101-120000.js'],
    ['vitest', './proxyctl-export-20240101-120000.test.js'],
  ] as const)('%s → %s', (format, path) => expect(defaultExportPath(format, '20240101-120000')).toBe(path));

  it('stamps local time', () => {
    expect(exportStamp(new Date(2024, 1, 3, 4, 5, 6).getTime())).toBe('20240203-040506');
  });

  it.each([
    ['marked', 1, '1 marked flow'],
    ['marked', 3, '3 marked flows'],
    ['view', 12, '12 flows in view'],
    ['selected', 1, 'the selected flow'],
  ] as const)('%s %d → %s', (scope, n, text) => expect(describeScope(scope, n)).toBe(text));
});

describe('describeExport', () => {
  it('names the files relative to the folder, and what was redacted', () => {
    const report = new RedactionReport();
    report.add('Authorization', 3);
    report.add('Cookie');
    expect(describeExport({ flows: 12, written: ['/work/x.har'], report, skipped: '' }, '/work')).toBe('exported 12 flows to ./x.har (redacted: Authorization ×3, Cookie ×1)');
  });

  it('says when nothing needed redacting, and keeps paths outside the folder absolute', () => {
    expect(describeExport({ flows: 1, written: ['/elsewhere/a.har'], report: new RedactionReport(), skipped: '' }, '/work')).toBe('exported 1 flow to /elsewhere/a.har (nothing to redact)');
  });

  it('lists every file of a fixture layout and what was left out', () => {
    const text = describeExport({ flows: 2, written: ['/w/out/handlers.js', '/w/out/recorded.test.js'], report: new RedactionReport(), skipped: '1 websocket flow' }, '/w');
    expect(text).toBe('exported 2 flows to ./out/handlers.js, ./out/recorded.test.js (nothing to redact); left out: 1 websocket flow');
  });
});

describe('the export chooser', () => {
  it('shows the scope, the other scopes, the formats with their keys, and the key hints', () => {
    const lines = exportChooserLines({ ...open(), format: 'msw' }, 120).map(lineText);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^export 2 marked flows\s+scope \(Tab\):\s+marked 2\s+view 5\s+selected 1$/);
    expect(lines[1]).toBe('as:  [h]ar  [c]url  [r]aw  [n]ock  [m]sw  [v]itest ');
    expect(lines[2]).toContain('Esc:cancel');
    const formats = exportChooserLines({ ...open(), format: 'msw' }, 120)[1]!;
    expect(formats.find((s) => s.role === 'selected')?.text).toBe(' [m]sw ');
  });

  it('takes three rows from the main area', () => {
    const one = screenLayout(100, 30, { showLog: false, promptError: false });
    const three = screenLayout(100, 30, { showLog: false, promptError: false, promptRows: 3 });
    expect(one.main - three.main).toBe(2);
    expect(three.prompt).toBe(3);
  });
});
