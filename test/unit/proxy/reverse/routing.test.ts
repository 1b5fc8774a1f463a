import { describe, expect, it } from 'vitest';
import { joinBackendPath, matchRoute, pathMatches, stripPrefix } from '../../../../src/proxy/reverse/routing.js';
import type { RouteSettings } from '../../../../src/proxy/reverse/settings.js';

const route = (host: string | null, pathPrefix: string, group: string, stripPrefixOn = false): RouteSettings => ({ host, pathPrefix, group, stripPrefix: stripPrefixOn });

const ROUTES: RouteSettings[] = [
  route(null, '/', 'any-root'),
  route(null, '/static', 'any-static'),
  route('api.local', '/', 'api'),
  route('api.local', '/v2', 'api-v2', true),
  route('*.example.com', '/', 'wild'),
  route('*.eu.example.com', '/', 'wild-eu'),
  route('admin.local', '/admin', 'admin'),
];

describe('matchRoute', () => {
  it.each<[string | undefined, string, string | null, string?]>([
    ['api.local', '/users', 'api'],
    ['API.local:8443', '/users', 'api'],
    ['api.local.', '/x', 'api'],
    ['api.local', '/v2/users?x=1', 'api-v2', '/users?x=1'],
    ['api.local', '/v2', 'api-v2', '/'],
    ['api.local', '/v2x', 'api'],
    ['shop.example.com', '/', 'wild'],
    ['a.eu.example.com', '/', 'wild-eu'],
    ['example.com', '/', 'any-root'],
    ['other.local', '/static/app.js', 'any-static'],
    ['other.local', '/staticx', 'any-root'],
    [undefined, '/static', 'any-static'],
    // A host whose routes match no prefix falls through to the host-less routes.
    ['admin.local', '/login', 'any-root'],
    ['admin.local', '/admin/users', 'admin'],
  ])('Host %j, path %j → group %j', (host, path, group, forwardedPath) => {
    const m = matchRoute(ROUTES, null, host, path);
    expect(m?.group ?? null).toBe(group);
    expect(m?.path).toBe(forwardedPath ?? path);
  });

  it('falls back to the default group, or null without one', () => {
    const routes = [route('api.local', '/', 'api')];
    expect(matchRoute(routes, 'default', 'web.local', '/x')).toEqual({ group: 'default', path: '/x' });
    expect(matchRoute(routes, null, 'web.local', '/x')).toBeNull();
    expect(matchRoute([], 'default', undefined, '/')).toEqual({ group: 'default', path: '/' });
  });
});

describe('path helpers', () => {
  it.each<[string, string, boolean]>([
    ['/api', '/api', true],
    ['/api/', '/api', true],
    ['/api?x', '/api', true],
    ['/apix', '/api', false],
    ['/api', '/api/', true],
    ['/api/x', '/api/', true],
    ['/apix', '/api/', false],
    ['/anything', '/', true],
  ])('pathMatches(%j, %j) = %j', (path, prefix, result) => {
    expect(pathMatches(path, prefix)).toBe(result);
  });

  it('strips a prefix and joins a backend prefix', () => {
    expect(stripPrefix('/api/x?q', '/api')).toBe('/x?q');
    expect(stripPrefix('/api', '/api/')).toBe('/');
    expect(stripPrefix('/api?q', '/api')).toBe('/?q');
    expect(joinBackendPath('/', '/users')).toBe('/users');
    expect(joinBackendPath('/v1', '/users?a')).toBe('/v1/users?a');
    expect(joinBackendPath('/v1/', '/')).toBe('/v1/');
  });
});
