import {
  backendSchema,
  METADATA_KEY_PATTERN,
  nonEmptyString,
  positiveInt,
  routeSchema,
} from './schema-backends';
import { mirrorSchema } from './schema-mirror';
import { ENGINES, LOG_LEVELS } from './types';

/** `host:port`, `[v6]:port` or `unix:/path`; port 0 asks the OS for a free port. */
const LISTEN_ADDRESS = '^(unix:.+|(\\[[0-9A-Fa-f:.]+\\]|[^\\s:/\\[\\]]+):[0-9]{1,5})$';
const nonNegativeInt = { type: 'integer', minimum: 0 } as const;
const listenAddress = {
  type: 'string',
  pattern: LISTEN_ADDRESS,
  errorMessage: 'must be host:port, [ipv6]:port or unix:/path',
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
        'calls one client connection runs at once; its further calls wait at the proxy, on both engines (announced to clients as `SETTINGS_MAX_CONCURRENT_STREAMS`: ten times this on http2, twice on grpc-js)',
    },
    idleTimeoutMs: {
      ...nonNegativeInt,
      description:
        'a client connection without a call for this long is closed (GOAWAY); `0`: never (grpc-js: `grpc.max_connection_idle_ms`)',
    },
    maxResetsPerSecond: {
      ...nonNegativeInt,
      description:
        'calls one connection may cancel before their answer in a second, beyond those it let finish; one more and it gets GOAWAY(ENHANCE_YOUR_CALM) and is closed; `0`: no limit',
    },
    maxBufferedBytes: {
      ...positiveInt,
      description:
        'bytes of replies waiting for one client connection to read, past which it may start no new call',
    },
    stallTimeoutMs: {
      ...nonNegativeInt,
      description:
        'a call whose replies wait on a client that reads none of them for this long is reset (and cancelled at the backend); `0`: never',
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
    mirrorTimeoutMs: {
      ...nonNegativeInt,
      description:
        'a mirrored copy still running this long after its call ended is cancelled (counted `dropped`); `0`: when its call ends',
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
    workers: {
      type: ['integer', 'string'],
      minimum: 1,
      pattern: '^auto$',
      errorMessage: 'must be a positive integer or "auto"',
      description:
        'processes serving the listeners (node:cluster), each with its own backend connections and health checks; `auto`: one per available CPU',
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
      items: backendSchema,
      description: 'named groups of equivalent targets',
    },
    routes: {
      type: 'array',
      items: routeSchema,
      description: 'rules tried in order; the first whose every condition holds picks the backend',
    },
    defaultBackend: {
      ...nonEmptyString,
      description:
        'where calls no route matches go; without one they end with `UNIMPLEMENTED` `grpc-proxy: no route for <method>` (required with several backends and no routes)',
    },
    mirror: mirrorSchema(
      'shadow traffic for calls whose route has no `mirror` (all calls without routes): also copied to this backend (or each of a list)',
    ),
    metadata: {
      type: 'object',
      additionalProperties: false,
      description:
        'how request metadata is forwarded (hop-by-hop and transport keys are always dropped)',
      properties: {
        strip: {
          type: 'array',
          items: { type: 'string', pattern: METADATA_KEY_PATTERN },
          description: 'request metadata keys removed before forwarding (routing still sees them)',
        },
        forwardedFor: {
          type: 'boolean',
          description: "append the client's address to `x-forwarded-for`",
        },
        mirrorHeader: {
          type: 'string',
          pattern: '^(?!grpc-)(?![0-9a-z_.-]*-bin$)[0-9a-z_.-]+$',
          errorMessage: 'must be a lower-case metadata key not starting with grpc- nor ending -bin',
          description:
            'the header (value `1`) that marks mirrored copies, so backends can tell shadow traffic',
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
