import { BALANCING_POLICIES, ENGINES, LOG_LEVELS } from './types';

/** `host:port`, `[v6]:port` or `unix:/path`; port 0 asks the OS for a free port. */
const LISTEN_ADDRESS = '^(unix:.+|(\\[[0-9A-Fa-f:.]+\\]|[^\\s:/\\[\\]]+):[0-9]{1,5})$';
const METADATA_KEY = '^[0-9a-z_.-]+$';
const positiveInt = { type: 'integer', minimum: 1 } as const;
const nonNegativeInt = { type: 'integer', minimum: 0 } as const;
const nonEmptyString = { type: 'string', minLength: 1 } as const;
const listenAddress = {
  type: 'string',
  pattern: LISTEN_ADDRESS,
  errorMessage: 'must be host:port, [ipv6]:port or unix:/path',
} as const;

const healthCheck = {
  type: 'object',
  additionalProperties: false,
  properties: {
    service: {
      type: 'string',
      description: "service name asked about (`''` = the whole server)",
    },
    intervalMs: {
      ...positiveInt,
      description: '`Check` polling interval, for targets that do not implement `Watch`',
    },
    timeoutMs: {
      ...positiveInt,
      description:
        'deadline of one polled `Check`; startup waits at most this long for the first answers',
    },
  },
} as const;

const backendTls = {
  type: 'object',
  additionalProperties: false,
  description: 'TLS towards the targets',
  properties: {
    ca: { ...nonEmptyString, description: "PEM CA that signs the backends' certificates" },
    cert: {
      ...nonEmptyString,
      description: 'PEM client certificate chain for mutual TLS with the backend (with `key`)',
    },
    key: {
      ...nonEmptyString,
      description: 'PEM private key of that client certificate (with `cert`)',
    },
    serverName: {
      ...nonEmptyString,
      description:
        'name checked in the backend certificate (and sent as SNI); needed for an IP-address target on Node 26',
    },
  },
} as const;

const backend = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'targets'],
  properties: {
    name: {
      ...nonEmptyString,
      description: 'names the backend in routes, logs and metrics (the `backend` label)',
    },
    targets: {
      type: 'array',
      minItems: 1,
      items: nonEmptyString,
      description: '`host:port` or any grpc-js target (`dns:///host:port`, `unix:/path`)',
    },
    balancing: {
      enum: BALANCING_POLICIES,
      description:
        '`round_robin`: rotation over the targets that may take calls; `first_healthy`: every call to the first serving target, in order (needs `healthCheck`)',
    },
    tls: backendTls,
    healthCheck: {
      ...healthCheck,
      type: ['boolean', 'object'],
      description:
        'grpc.health.v1 checks: a `Watch` stream per target (`Check` polling when `Watch` is unimplemented); only `SERVING` targets get calls; `true` means every default',
    },
  },
} as const;

const route = {
  type: 'object',
  additionalProperties: false,
  required: ['backend'],
  properties: {
    service: {
      type: 'string',
      pattern: '^[^/]+$',
      errorMessage: 'must be a service name like pkg.Service, without slashes',
      description: 'full service name, e.g. `acme.users.v1.Users`',
    },
    method: {
      type: 'string',
      pattern: '^/[^/]+/[^/]+$',
      errorMessage: 'must be a full method name like /pkg.Service/Method',
      description: 'full method name, e.g. `/acme.users.v1.Users/Get`',
    },
    metadata: {
      type: 'object',
      minProperties: 1,
      propertyNames: {
        pattern: METADATA_KEY,
        errorMessage: 'metadata keys must be lower-case letters, digits, "_", "-" or "."',
      },
      additionalProperties: {
        type: ['string', 'array'],
        items: { type: 'string' },
        minItems: 1,
      },
      description:
        "the key's first value must equal the value (or one of the list); keys are lower-case",
    },
    backend: {
      ...nonEmptyString,
      description:
        'where matching calls go (a rule needs at least one of `service`, `method`, `metadata`)',
    },
  },
} as const;

const limits = {
  type: 'object',
  additionalProperties: false,
  description: 'resource limits, towards clients and towards backends',
  properties: {
    maxMessageBytes: {
      ...positiveInt,
      description:
        'largest message either way, on both legs; a bigger one ends the call with `RESOURCE_EXHAUSTED`',
    },
    maxConcurrentStreams: {
      ...positiveInt,
      description:
        'calls one client connection runs at once; http2 engine: its further calls wait at the proxy (ten times this is announced), grpc-js: announced as `grpc.max_concurrent_streams`, clients queue past it',
    },
    idleTimeoutMs: {
      ...nonNegativeInt,
      description:
        'a client connection without a call for this long is closed (GOAWAY); `0`: never (grpc-js: `grpc.max_connection_idle_ms`)',
    },
    maxResetsPerSecond: {
      ...nonNegativeInt,
      description:
        'http2 engine: calls one connection may cancel before their answer in a second, beyond those it let finish; one more and it gets GOAWAY(ENHANCE_YOUR_CALM) and is closed; `0`: no limit',
    },
    maxBufferedBytes: {
      ...positiveInt,
      description:
        'http2 engine: bytes of replies waiting for one client connection to read, past which it may start no new call',
    },
    stallTimeoutMs: {
      ...nonNegativeInt,
      description:
        'http2 engine: a call whose replies wait on a client that reads none of them for this long is reset (and cancelled at the backend); `0`: never',
    },
    backendResetBurst: {
      ...positiveInt,
      description:
        'http2 engine: cancellations sent on one backend connection in a burst; past it, new calls go on a new connection (a backend counting resets per connection never refuses them)',
    },
    backendResetsPerSecond: {
      ...positiveInt,
      description: 'http2 engine: cancellations a second added back to that budget',
    },
    keepalive: {
      type: 'object',
      additionalProperties: false,
      description: 'HTTP/2 keepalive pings, towards clients and towards backends',
      properties: {
        timeMs: { ...positiveInt, description: 'HTTP/2 ping interval' },
        timeoutMs: {
          ...positiveInt,
          description: 'how long a ping may wait for its ack before the connection is closed',
        },
      },
    },
  },
} as const;

/**
 * JSON schema (draft 7, for ajv 8) of a grpc-proxy config file, and the one description of each
 * field (the README's config reference repeats them, checked by a test). Cross-field rules
 * (backend names exist and are unique, a route has a condition, cert and key come together) are
 * checked after the schema, in `validate.ts`.
 */
export const proxyConfigSchema = {
  $id: 'https://github.com/grpc-proxy/grpc-proxy/config.schema.json',
  type: 'object',
  additionalProperties: false,
  required: ['backends'],
  properties: {
    engine: {
      enum: ENGINES,
      description:
        '`grpc-js`: calls served by grpc-js (`@grpc-proxy/handler`); `http2`: by node:http2, frames forwarded without decoding a message (`@grpc-proxy/http2`)',
    },
    listen: {
      ...listenAddress,
      type: ['string', 'array'],
      items: listenAddress,
      minItems: 1,
      description:
        'addresses to accept gRPC on: `host:port`, `[ipv6]:port`, `unix:/path`; port 0 picks a free port',
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      description: 'TLS for the listeners',
      properties: {
        cert: { ...nonEmptyString, description: 'PEM certificate chain of the listeners' },
        key: { ...nonEmptyString, description: 'PEM private key of the listeners' },
        clientCa: {
          ...nonEmptyString,
          description:
            'PEM CA bundle; set, it is mutual TLS: clients without a certificate it signed fail the handshake',
        },
      },
    },
    backends: {
      type: 'array',
      minItems: 1,
      items: backend,
      description: 'named groups of equivalent targets',
    },
    routes: {
      type: 'array',
      items: route,
      description: 'rules tried in order; the first whose every condition holds picks the backend',
    },
    defaultBackend: {
      ...nonEmptyString,
      description:
        'where calls no route matches go; without one they end with `UNIMPLEMENTED` `grpc-proxy: no route for <method>` (required with several backends and no routes)',
    },
    metadata: {
      type: 'object',
      additionalProperties: false,
      description:
        'how request metadata is forwarded (hop-by-hop and transport keys are always dropped)',
      properties: {
        strip: {
          type: 'array',
          items: { type: 'string', pattern: METADATA_KEY },
          description: 'request metadata keys removed before forwarding (routing still sees them)',
        },
        forwardedFor: {
          type: 'boolean',
          description: "append the client's address to `x-forwarded-for`",
        },
      },
    },
    limits,
    admin: {
      type: 'object',
      additionalProperties: false,
      required: ['listen'],
      description: 'the admin HTTP listener',
      properties: {
        listen: {
          ...listenAddress,
          description:
            '`host:port` of the HTTP listener for `/metrics` (Prometheus), `/healthz`, `/readyz`',
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      description: 'logging: one JSON object per line on stdout (readable lines on a terminal)',
      properties: {
        level: {
          enum: LOG_LEVELS,
          description:
            'lowest level logged: `fatal`, `error`, `warn`, `info`, `debug` (one line per call), `trace`, `silent`',
        },
      },
    },
    shutdown: {
      type: 'object',
      additionalProperties: false,
      description: 'graceful shutdown on SIGTERM/SIGINT',
      properties: {
        drainTimeoutMs: {
          type: 'integer',
          minimum: 0,
          description:
            'how long running calls may finish before they end with `UNAVAILABLE` `grpc-proxy: shutting down`',
        },
      },
    },
  },
} as const;
