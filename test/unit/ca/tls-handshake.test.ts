/** Real TLS: a `tls.Server` picking contexts by SNI, and clients that trust only the fixture root. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type ConnectionOptions, type SecureVersion, type Server, type TLSSocket } from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../../src/ca/index.js';
import { loadFixtureCa } from '../../helpers/test-ca.js';

interface Outcome {
  authorized: boolean;
  error?: NodeJS.ErrnoException;
  subject?: string;
  altNames?: string;
  protocol?: string | null;
}

describe('TLS handshakes with issued leaves', () => {
  let ca: CertificateAuthority;
  let server: Server;
  let port: number;
  const sniSeen: string[] = [];
  const serverErrors: string[] = [];

  beforeAll(async () => {
    ca = await loadFixtureCa();
  });

  beforeEach(async () => {
    sniSeen.length = 0;
    serverErrors.length = 0;
    // No SNI (an IP literal): the default context, which the proxy picks from the CONNECT target.
    const ip = ca.leafFor('127.0.0.1');
    server = createServer({
      key: ip.keyPem,
      cert: ip.certPem + ca.certPem,
      SNICallback: (servername, cb) => {
        sniSeen.push(servername);
        try {
          cb(null, ca.secureContextFor(servername));
        } catch (err) {
          cb(err as Error);
        }
      },
    });
    server.on('secureConnection', (socket) => {
      socket.on('error', () => {
        // The client may reset after its own checks; nothing to assert on the server side.
      });
      socket.end('ok');
    });
    server.on('tlsClientError', (err) => serverErrors.push(err.message));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.close();
    await once(server, 'close');
  });

  function handshake(opts: ConnectionOptions): Promise<Outcome> {
    return new Promise((resolve) => {
      const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: [ca.certPem], ...opts });
      socket.once('secureConnect', () => {
        const peer = socket.getPeerCertificate();
        resolve({
          authorized: socket.authorized,
          subject: peer.subject?.CN as string | undefined,
          altNames: peer.subjectaltname,
          protocol: socket.getProtocol(),
        });
        socket.destroy();
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        resolve({ authorized: false, error });
        socket.destroy();
      });
    });
  }

  it.each<SecureVersion>(['TLSv1.2', 'TLSv1.3'])('completes a %s handshake for a host name via SNI', async (version) => {
    const outcome = await handshake({ servername: 'api.proxied.test', minVersion: version, maxVersion: version });
    expect(outcome.error).toBeUndefined();
    expect(outcome).toMatchObject({
      authorized: true,
      subject: 'api.proxied.test',
      altNames: 'DNS:api.proxied.test',
      protocol: version,
    });
    expect(sniSeen).toEqual(['api.proxied.test']);
  });

  it.each<SecureVersion>(['TLSv1.2', 'TLSv1.3'])('completes a %s handshake for 127.0.0.1 without SNI', async (version) => {
    // No servername: Node sends no SNI for an IP and checks the IP SAN against `host`.
    const outcome = await handshake({ minVersion: version, maxVersion: version });
    expect(outcome.error).toBeUndefined();
    expect(outcome).toMatchObject({ authorized: true, altNames: 'IP Address:127.0.0.1' });
    expect(sniSeen).toEqual([]);
  });

  it('is refused by a client that does not trust the root', async () => {
    const outcome = await handshake({ servername: 'untrusted.test', ca: undefined });
    expect(outcome.authorized).toBe(false);
    expect(outcome.error?.code).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });

  it('is refused when the certificate is for another name', async () => {
    const outcome = await handshake({
      servername: 'served.test',
      checkServerIdentity: (_host, cert) => {
        expect(cert.subjectaltname).toBe('DNS:served.test');
        return new Error('pretend the client asked for another.test');
      },
    });
    expect(outcome.error?.message).toContain('another.test');
  });

  it('fails only the handshake when the SNI is not a valid host name', async () => {
    const outcome = await handshake({ servername: '*.wildcard.test' });
    expect(outcome.authorized).toBe(false);
    expect(outcome.error).toBeDefined();
    expect(sniSeen).toEqual(['*.wildcard.test']);
    expect(serverErrors).toContainEqual(expect.stringContaining('invalid host name'));
    const after = await handshake({ servername: 'still-serving.test' });
    expect(after.authorized).toBe(true);
  });
});
