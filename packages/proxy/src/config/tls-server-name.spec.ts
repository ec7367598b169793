import { ConfigError } from './config-error';
import { parseConfig } from './load';
import { ipServerNameRefused, tlsHostOf } from './tls-server-name';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** A config with one TLS backend of `targets`; `serverName` set when given. */
function tlsBackendConfig(targets: string[], serverName?: string): string {
  const name = serverName === undefined ? '' : `, serverName: ${serverName}`;
  return `backends: [{ name: b, targets: ${JSON.stringify(targets)}, tls: { ca: ca.crt${name} } }]`;
}

function parse(text: string) {
  return parseConfig(text, 'test.yaml', '/etc/grpc-proxy');
}

describe('TLS to an IP-address backend target', () => {
  it('Node 26 and later refuse an IP address as TLS server name; 20 to 24 accept it', () => {
    expect(ipServerNameRefused()).toBe(NODE_MAJOR >= 26);
  });

  it('finds the host grpc-js sends as server name, for every target form', () => {
    expect(
      [
        '127.0.0.1:50051',
        'backend.internal:443',
        '[::1]:50051',
        '::1',
        '10.0.0.1',
        'dns:///10.0.0.2:443',
        'dns:backend.internal:443',
        'ipv4:10.0.0.3:1,10.0.0.4:1',
        'ipv6:[fd00::1]:443',
        'unix:/run/backend.sock',
        'unix-abstract:backend',
      ].map(tlsHostOf),
    ).toEqual([
      '127.0.0.1',
      'backend.internal',
      '::1',
      '::1',
      '10.0.0.1',
      '10.0.0.2',
      'backend.internal',
      '10.0.0.3',
      'fd00::1',
      undefined,
      undefined,
    ]);
  });

  it('is a config error on lines that refuse it, naming each IP target and what to set', () => {
    const text = tlsBackendConfig([
      '127.0.0.1:50051',
      'backend.internal:443',
      '[::1]:50051',
      'dns:///10.0.0.2:443',
    ]);
    if (!ipServerNameRefused()) {
      expect(parse(text).backends[0].targets).toHaveLength(4);
      return;
    }
    const refuses = (host: string) =>
      `Node ${process.versions.node} refuses an IP address (${host}) as TLS server name: set backends[0].tls.serverName to a name in the backend's certificate, or use a DNS name`;
    let thrown: unknown;
    try {
      parse(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).issues).toEqual([
      { path: 'backends[0].targets[0]', message: refuses('127.0.0.1') },
      { path: 'backends[0].targets[2]', message: refuses('::1') },
      { path: 'backends[0].targets[3]', message: refuses('10.0.0.2') },
    ]);
  });

  it('is valid on every line with tls.serverName, or without TLS', () => {
    const targets = ['127.0.0.1:50051', '[::1]:50051'];
    expect(parse(tlsBackendConfig(targets, 'backend.internal')).backends[0].tls).toEqual({
      ca: '/etc/grpc-proxy/ca.crt',
      serverName: 'backend.internal',
    });
    expect(
      parse(`backends: [{ name: b, targets: ${JSON.stringify(targets)} }]`).backends[0].targets,
    ).toEqual(targets);
  });
});
