import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { flowUrl, type Flow } from '../proxy/core/flow.js';
import type { FlowPredicate } from '../proxy/filter/index.js';
import { toCurl } from './curl.js';
import { describeSkipped, fixtureExchanges, type FixtureExchange } from './fixture-exchange.js';
import { flowToHarEntry, harHead, harTail } from './har.js';
import { toMswHandlers } from './msw.js';
import { toNockDefinitions } from './nock.js';
import type { ExportFormat, MockLibrary, OutputFile } from './output-layout.js';
import { toRaw } from './raw.js';
import { redactFlow, RedactionReport, type Redaction } from './redact.js';
import type { FlowSource } from './source.js';
import { toVitestFile } from './vitest.js';

export interface ExportPlan {
  format: ExportFormat;
  /** Only flows matching it (`--filter`). */
  filter: FlowPredicate | null;
  /** null with `--no-redact`. */
  redaction: Redaction | null;
  files: OutputFile[];
  mock: MockLibrary;
}

export interface ExportSummary {
  /** Flows exported (after the filter). */
  flows: number;
  /** Files written (not stdout). */
  written: string[];
  report: RedactionReport | null;
  /** Fixture formats: flows that are not plain HTTP exchanges, by reason. */
  skipped: string;
}

/** Where output goes: a file path, or the given stdout when `path` is null. */
export interface ExportIo {
  stdout: NodeJS.WritableStream;
}

/**
 * Run an export: read the source as a stream, keep the flows the filter selects, redact them,
 * and write the format. HAR, curl and raw are written flow by flow (a long session is never
 * held whole); fixture formats collect the selected exchanges first.
 */
export async function runExport(source: FlowSource, plan: ExportPlan, io: ExportIo): Promise<ExportSummary> {
  const report = plan.redaction ? new RedactionReport() : null;
  const selected = async function* (): AsyncGenerator<Flow> {
    for await (const flow of source.flows()) {
      if (plan.filter && !plan.filter(flow)) continue;
      yield plan.redaction && report ? redactFlow(flow, plan.redaction, report) : flow;
    }
  };
  const written: string[] = [];
  let count = 0;
  let skipped = '';

  const streaming = plan.files.length === 1 && (plan.files[0]!.content === 'har' || plan.files[0]!.content === 'curl' || plan.files[0]!.content === 'raw');
  if (streaming) {
    const file = plan.files[0]!;
    const sink = await openSink(file.path, io);
    if (file.content === 'har') {
      await sink.write(harHead({ comment: `proxyctl export of ${source.label}` }));
      let first = true;
      for await (const flow of selected()) {
        count++;
        const entry = flowToHarEntry(flow);
        if (!entry) continue;
        await sink.write(`${first ? '' : ',\n'}${JSON.stringify(entry)}`);
        first = false;
      }
      await sink.write(harTail());
    } else {
      for await (const flow of selected()) {
        count++;
        if (file.content === 'curl') {
          if (flow.kind === 'tunnel') continue;
          await sink.write(`# ${flow.request.method} ${flowUrl(flow.request)}${flow.response ? ` → ${flow.response.status}` : ''}\n${toCurl(flow)}\n\n`);
        } else await sink.write(`${toRaw(flow)}\n`);
      }
    }
    await sink.end();
    if (file.path) written.push(file.path);
    return { flows: count, written, report, skipped };
  }

  const flows: Flow[] = [];
  for await (const flow of selected()) flows.push(flow);
  count = flows.length;
  const selection = fixtureExchanges(flows);
  skipped = describeSkipped(selection.skipped);
  for (const file of plan.files) {
    const text = render(file, selection.exchanges, plan.mock, source.label);
    const sink = await openSink(file.path, io);
    await sink.write(text);
    await sink.end();
    if (file.path) written.push(file.path);
  }
  return { flows: count, written, report, skipped };
}

function render(file: OutputFile, exchanges: FixtureExchange[], mock: MockLibrary, label: string): string {
  const typescript = file.lang === 'ts';
  switch (file.content) {
    case 'nock-json':
      return `${JSON.stringify(toNockDefinitions(exchanges), null, 2)}\n`;
    case 'msw-module':
      return toMswHandlers(exchanges, { typescript, source: label });
    case 'vitest-inline':
      return toVitestFile(exchanges, { typescript, mock, fixturesPath: null, source: label });
    case 'vitest-importing':
      return toVitestFile(exchanges, { typescript, mock, fixturesPath: importPath(mock), source: label });
    case 'har':
    case 'curl':
    case 'raw':
      throw new Error(`${file.content} is written by streaming`);
  }
}

/**
 * `./nock.json`, or `./handlers.js` for both languages: a TypeScript importer resolves `.js` to the
 * `.ts` file (as NodeNext and Vite do).
 */
function importPath(mock: MockLibrary): string {
  return mock === 'nock' ? './nock.json' : './handlers.js';
}

interface Sink {
  write(text: string): Promise<void>;
  end(): Promise<void>;
}

async function openSink(path: string | null, io: ExportIo): Promise<Sink> {
  if (path === null) {
    return {
      write: async (text) => {
        // Respect a slow reader (a pipe into less): wait for 'drain' instead of buffering it all.
        if (!io.stdout.write(text)) await once(io.stdout, 'drain');
      },
      end: async () => {},
    };
  }
  await mkdir(dirname(path), { recursive: true });
  const stream = createWriteStream(path);
  await once(stream, 'open');
  return {
    write: async (text) => {
      if (!stream.write(text)) await once(stream, 'drain');
    },
    end: async () => {
      stream.end();
      await once(stream, 'finish');
    },
  };
}
