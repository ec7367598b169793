/**
 * Small raw grpc-js servers and clients on 127.0.0.1:0 for the handler's own tests. Payloads
 * are raw Buffers (identity serializers) so tests can compare exact bytes.
 */
import {
  Client,
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  type CallOptions,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  type ServerOptions,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';

export const raw = (b: Buffer): Buffer => b;

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly target: string;
  close(): Promise<void>;
}

/** Binds `server` on 127.0.0.1:`port` (default 0: any free port); `close` force-shuts it down. */
export async function bindLocal(server: Server, port = 0): Promise<RunningServer> {
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    server,
    port: boundPort,
    target: `127.0.0.1:${boundPort}`,
    close: async () => server.forceShutdown(),
  };
}

/** Starts a grpc-js server on 127.0.0.1:`port` (default 0) after `setup` registered its handlers. */
export function startServer(
  setup: (server: Server) => void,
  options?: ServerOptions,
  port = 0,
): Promise<RunningServer> {
  const server = new Server(options);
  setup(server);
  return bindLocal(server, port);
}

/** A client making raw calls; closed by the caller. */
export function rawClient(target: string, options: Record<string, unknown> = {}): Client {
  return new Client(target, credentials.createInsecure(), {
    'grpc.enable_channelz': 0,
    ...options,
  });
}

/** Everything a client observed on one call. */
export interface CallOutcome {
  readonly responses: Buffer[];
  readonly headers: Metadata | null;
  /** Number of `metadata` events (must be 0 or 1). */
  readonly headerEvents: number;
  /** True when headers were seen before the first message (vacuously true with no messages). */
  readonly headersFirst: boolean;
  readonly status: StatusObject;
}

type AnyClientStream = ClientReadableStream<Buffer> | ClientDuplexStream<Buffer, Buffer>;

/** Collects a streaming call's events into a {@link CallOutcome}. */
export function collect(call: AnyClientStream): Promise<CallOutcome> {
  return new Promise((resolve) => {
    const responses: Buffer[] = [];
    let headers: Metadata | null = null;
    let headerEvents = 0;
    let headersFirst = true;
    call.on('metadata', (md: Metadata) => {
      headers = md;
      headerEvents++;
    });
    call.on('data', (chunk: Buffer) => {
      if (responses.length === 0 && headers === null) headersFirst = false;
      responses.push(chunk);
    });
    call.on('error', () => undefined);
    call.on('status', (status: StatusObject) =>
      resolve({ responses, headers, headerEvents, headersFirst, status }),
    );
  });
}

/**
 * Collects a call with a single response (unary, client-streaming): `callback` is the call's
 * grpc-js callback, `outcome(call)` resolves with the outcome whatever the status.
 */
function singleResponse(): {
  callback: (error: ServiceError | null, value?: Buffer) => void;
  outcome(call: ClientUnaryCall | ClientWritableStream<Buffer>): Promise<CallOutcome>;
} {
  let response: Buffer | undefined;
  return {
    callback: (_error, value) => {
      response = value;
    },
    outcome: (call) =>
      new Promise((resolve) => {
        let headers: Metadata | null = null;
        let headerEvents = 0;
        call.on('metadata', (md: Metadata) => {
          headers = md;
          headerEvents++;
        });
        call.on('status', (status: StatusObject) =>
          // The callback runs before 'status' in grpc-js; defer one tick to be safe.
          setImmediate(() => {
            const responses = response ? [response] : [];
            resolve({ responses, headers, headerEvents, headersFirst: true, status });
          }),
        );
      }),
  };
}

/** A unary call through `client`; resolves with the outcome whatever the status. */
export function unaryCall(
  client: Client,
  method: string,
  request: Buffer,
  metadata = new Metadata(),
  options: CallOptions = {},
): Promise<CallOutcome> {
  const { callback, outcome } = singleResponse();
  return outcome(client.makeUnaryRequest(method, raw, raw, request, metadata, options, callback));
}

/** A client-streaming call sending `requests` then half-closing. */
export function clientStreamCall(
  client: Client,
  method: string,
  requests: Buffer[],
  metadata = new Metadata(),
  options: CallOptions = {},
): Promise<CallOutcome> {
  const { callback, outcome } = singleResponse();
  const call = client.makeClientStreamRequest(method, raw, raw, metadata, options, callback);
  const result = outcome(call);
  for (const request of requests) call.write(request);
  call.end();
  return result;
}

/** A server-streaming call. */
export function serverStreamCall(
  client: Client,
  method: string,
  request: Buffer,
  metadata = new Metadata(),
  options: CallOptions = {},
): Promise<CallOutcome> {
  return collect(client.makeServerStreamRequest(method, raw, raw, request, metadata, options));
}

/** A bidi call sending `requests` then half-closing. */
export function bidiCall(
  client: Client,
  method: string,
  requests: Buffer[],
  metadata = new Metadata(),
  options: CallOptions = {},
): Promise<CallOutcome> {
  const call = client.makeBidiStreamRequest(method, raw, raw, metadata, options);
  const outcome = collect(call);
  for (const request of requests) call.write(request);
  call.end();
  return outcome;
}

/** Resolves when `predicate` holds, polling every 2 ms; rejects after `limit` polls (10 s). */
export async function eventually(
  predicate: () => boolean,
  what: string,
  limit = 5000,
): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`condition never held: ${what}`);
}

/** A metadata's entries as a plain object of arrays, for exact comparisons. */
export function entries(metadata: Metadata | null): Record<string, (string | Buffer)[]> {
  const result: Record<string, (string | Buffer)[]> = {};
  if (metadata === null) return result;
  for (const key of Object.keys(metadata.getMap())) result[key] = metadata.get(key);
  return result;
}
