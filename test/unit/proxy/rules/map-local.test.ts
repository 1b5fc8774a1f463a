import { describe, expect, it } from 'vitest';
import { mapLocalRule } from '../../../../src/proxy/rules/map-local.js';
import { makeFlow } from '../../../helpers/make-flow.js';
import { fakeContext, filter } from './rule-kit.js';

const rule = mapLocalRule({ name: 'rules[3] map-local', ...filter('~u /static/'), root: '/srv/public' });

describe('mapLocalRule', () => {
  it('explains itself', () => {
    expect(rule.explain()).toBe('map-local ~u /static/ → /srv/public');
  });

  it.each<[string, string]>([
    ['/static/app.js', '/static/app.js'],
    ['/static/app.js?v=3', '/static/app.js'],
    ['/static/a%20b.css?x=1?y', '/static/a%20b.css'],
    ['/static/', '/static/'],
    ['/static/../../etc/passwd', '/static/../../etc/passwd'], // the network layer keeps lookups inside root
  ])('%s → serve %s from the root', (path, urlPath) => {
    expect(rule.request!(makeFlow({ request: { path } }), fakeContext())).toEqual({ action: 'serve-local', root: '/srv/public', urlPath, tag: 'map-local' });
  });

  it('answers HEAD too', () => {
    expect(rule.request!(makeFlow({ request: { method: 'HEAD', path: '/static/x' } }), fakeContext())).toMatchObject({ action: 'serve-local' });
  });

  it('lets other requests go upstream', () => {
    expect(rule.request!(makeFlow({ request: { path: '/api' } }), fakeContext())).toBeUndefined();
  });
});
