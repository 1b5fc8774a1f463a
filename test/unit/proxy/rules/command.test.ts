import { describe, expect, it } from 'vitest';
import { commandRule } from '../../../../src/proxy/rules/command.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { fakeContext, filter } from './rule-kit.js';

const argv = ['ffmpeg', '-i', 'pipe:0', '-f', 'mp3', 'pipe:1'];
const rule = (over: Partial<Parameters<typeof commandRule>[0]> = {}) =>
  commandRule({ name: 'rules[8] command', ...filter('~u /transcode'), argv, timeoutMs: 60_000, status: 200, headers: { 'Content-Type': 'audio/mpeg' }, ...over });

describe('commandRule', () => {
  it.each<[Partial<Parameters<typeof commandRule>[0]>, string]>([
    [{}, 'command ~u /transcode → ffmpeg -i pipe:0 -f mp3 pipe:1 (timeout 60 s)'],
    [{ argv: ['sh', '-c', "echo 'hi there'"], timeoutMs: 1500 }, `command ~u /transcode → sh -c 'echo '\\''hi there'\\''' (timeout 1500 ms)`],
  ])('explains itself', (over, line) => {
    expect(rule(over).explain()).toBe(line);
  });

  it('asks the exchange to run the program, with the configured status and headers', () => {
    const d = rule({ status: 201 }).request!(makeFlow({ request: { method: 'POST', path: '/transcode' } }), fakeContext());
    expect(d).toEqual({ action: 'run-command', argv, timeoutMs: 60_000, status: 201, headers: [['Content-Type', 'audio/mpeg']], tag: 'command' });
  });

  it.each<[string, string]>([
    ['a path with shell syntax', "/transcode;rm -rf ~$(id)"],
    ['a query', '/transcode?argv=--evil'],
  ])('never puts anything from the request into argv (%s)', (_n, path) => {
    const d = rule().request!(makeFlow({ request: { path, headers: [['X-Arg', '--evil']] } }), fakeContext());
    expect(d).toMatchObject({ action: 'run-command', argv });
  });

  it('keeps its argv even if the caller later changes the array it passed', () => {
    const mine = ['cat'];
    const r = rule({ argv: mine });
    mine.push('/etc/passwd');
    expect(r.request!(makeFlow({ request: { path: '/transcode' } }), fakeContext())).toMatchObject({ argv: ['cat'] });
  });

  it('lets other requests go upstream', () => {
    expect(rule().request!(makeFlow({ request: { path: '/other' } }), fakeContext())).toBeUndefined();
  });
});
