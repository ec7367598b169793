import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { credentials, status, type ChannelCredentials } from '@grpc/grpc-js';
import {
  callRawUnary,
  createTestPki,
  openRawBidi,
  type CallOutcome,
  type CertFiles,
  type TestPki,
} from '@grpc-proxy/testing';
import { probeService, splitAddress } from '../src';
import { targetUnavailable } from './support/passive-health';
import { ENGINES, expectEcho, finish, useHarness, type Harness } from './support/use-harness';

/** Every certificate the cases need, from one throw-away PKI. */
function issueCertificates(pki: TestPki) {
  const ca = pki.ca('ca');
  const rogueCa = pki.ca('rogue-ca');
  const backendCa = pki.ca('backend-ca');
  return {
    /** Signs the proxy's server certificate and the good client certificate. */
    ca,
    server: pki.leaf('server', ca, 'serverAuth'),
    client: pki.leaf('client', ca, 'clientAuth'),
    /** A CA nobody trusts, and a client certificate it signed. */
    rogueCa,
    rogueClient: pki.leaf('rogue-client', rogueCa, 'clientAuth'),
    /** A separate private CA for backends, and a backend certificate it signed. */
    backendCa,
    backend: pki.leaf('backend', backendCa, 'serverAuth'),
  };
}

let pki: TestPki | undefined;
let certs: ReturnType<typeof issueCertificates>;

beforeAll(() => {
  pki = createTestPki();
  certs = issueCertificates(pki);
});
afterAll(() => pki?.remove());

/** A proxy serving TLS in front of `backendAddress`, asking for client certificates when `mutual`. */
function tlsProxy(h: Harness, backendAddress: string, mutual: boolean) {
  return h.proxy({
    config: {
      tls: {
        cert: certs.server.certFile,
        key: certs.server.keyFile,
        ...(mutual && { clientCa: certs.ca.certFile }),
      },
      backends: [{ name: 'probe', targets: [backendAddress] }],
    },
  });
}

/** Client credentials trusting the proxy's CA, presenting `clientCert` when given. */
function trusting(clientCert?: CertFiles): ChannelCredentials {
  return clientCert
    ? credentials.createSsl(certs.ca.cert, clientCert.key, clientCert.cert)
    : credentials.createSsl(certs.ca.cert);
}

/** A unary probe call of `text` through a fresh connection to `address`. */
function unary(
  h: Harness,
  address: string,
  text: string,
  channelCredentials?: ChannelCredentials,
): Promise<CallOutcome<Buffer>> {
  const client = h.probeClient(address, channelCredentials);
  return callRawUnary(client, probeService.Unary.path, Buffer.from(text));
}

/** Expects `outcome` to be OK with the echo of `text`. */
function expectEchoed(outcome: CallOutcome<Buffer>, text: string): void {
  expect([outcome.status.code, outcome.responses.map(String)]).toEqual([status.OK, [text]]);
}

describe.each(ENGINES)('TLS (%s engine)', (engine) => {
  const h = useHarness({ engine });

  it('serves TLS clients that trust its CA, and refuses plaintext clients', async () => {
    const backend = await h.backend();
    const proxy = await tlsProxy(h, backend.address, false);
    expectEchoed(await unary(h, proxy.address, 'tls', trusting()), 'tls');
    const plain = await unary(h, proxy.address, 'plain');
    expect(plain.status.code).toBe(status.UNAVAILABLE);
  });

  it('mutual TLS: accepts a client certificate from its CA, refuses a missing or foreign one', async () => {
    const backend = await h.backend();
    const proxy = await tlsProxy(h, backend.address, true);
    expectEchoed(await unary(h, proxy.address, 'mtls', trusting(certs.client)), 'mtls');

    const missing = await unary(h, proxy.address, 'x', trusting());
    expect(missing.status.code).toBe(status.UNAVAILABLE);
    const rogue = await unary(h, proxy.address, 'x', trusting(certs.rogueClient));
    expect(rogue.status.code).toBe(status.UNAVAILABLE);
    expect(backend.events().filter((event) => event.event === 'call')).toEqual([]);
  });

  it('a bad handshake disturbs no other connection', async () => {
    const backend = await h.backend();
    const proxy = await tlsProxy(h, backend.address, true);
    const healthy = h.own(
      openRawBidi(h.probeClient(proxy.address, trusting(certs.client)), probeService.Bidi.path),
      (session) => session.call.cancel(),
    );
    await expectEcho(healthy, 'before');

    const [host, port] = splitAddress(proxy.address);
    // Plaintext HTTP/2 preface and garbage on the TLS port.
    await new Promise<void>((resolve) => {
      const socket = netConnect({ host, port }, () =>
        socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x01garbage'),
      );
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
      socket.on('data', () => undefined);
    });
    // A TLS client that does not trust the proxy's certificate aborts its own handshake.
    await new Promise<void>((resolve) => {
      const socket = tlsConnect({ host, port, ALPNProtocols: ['h2'] });
      socket.on('error', () => resolve());
      socket.on('secureConnect', () => resolve());
    });
    // A client with a foreign certificate, refused by the proxy.
    const rogue = await unary(h, proxy.address, 'x', trusting(certs.rogueClient));
    expect(rogue.status.code).toBe(status.UNAVAILABLE);

    await expectEcho(healthy, 'after');
    expect(await finish(healthy)).toBe(status.OK);
    expectEchoed(await unary(h, proxy.address, 'next', trusting(certs.client)), 'next');
    expect(proxy.process.running).toBe(true);
  });

  it('TLS to a backend with a private CA; a backend certificate it cannot verify is refused', async () => {
    const backend = await h.backend({
      tls: { cert: certs.backend.certFile, key: certs.backend.keyFile },
    });
    const proxyTrusting = (ca: CertFiles) =>
      h.proxy({
        config: {
          backends: [
            {
              name: 'probe',
              targets: [backend.address],
              // The certificate's name: Node 26 refuses an IP address as TLS server name.
              tls: { ca: ca.certFile, serverName: 'localhost' },
            },
          ],
        },
      });
    const trusted = await proxyTrusting(certs.backendCa);
    expectEchoed(await unary(h, trusted.address, 'to tls backend'), 'to tls backend');

    const untrusting = await proxyTrusting(certs.rogueCa);
    const refused = await unary(h, untrusting.address, 'x');
    expect(refused.status.code).toBe(status.UNAVAILABLE);
    expect(refused.status.details).toMatch(targetUnavailable('probe', probeService.Unary.path));
  });
});
