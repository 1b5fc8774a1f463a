import type { LocalResponse } from '../core/pipeline.js';

/**
 * What a browser sees when it asks the proxy itself (not through it) for a page: a short note and
 * the root certificate to download, as mitmproxy's mitm.it does.
 */
export function selfPage(path: string, caCertPem: string): LocalResponse {
  if (path === '/ca.pem' || path === '/cert/pem') {
    return {
      status: 200,
      headers: [
        ['Content-Type', 'application/x-x509-ca-cert'],
        ['Content-Disposition', 'attachment; filename="proxyctl-ca.pem"'],
      ],
      body: caCertPem,
    };
  }
  if (path === '/' || path === '/index.html') {
    return {
      status: 200,
      headers: [['Content-Type', 'text/html; charset=utf-8']],
      body:
        '<!doctype html><html><head><meta charset="utf-8"><title>proxyctl</title></head><body>' +
        '<h1>proxyctl is running</h1><p>This address is an HTTP proxy. Point your client at it ' +
        '(for example <code>curl -x http://HOST:PORT URL</code>) and trust its root certificate: ' +
        '<a href="/ca.pem">download ca.pem</a>.</p></body></html>\n',
    };
  }
  return {
    status: 404,
    headers: [['Content-Type', 'text/plain; charset=utf-8']],
    body: 'proxyctl: this is a proxy; send absolute-form requests (http://host/path) or CONNECT. The CA is at /ca.pem.\n',
  };
}
