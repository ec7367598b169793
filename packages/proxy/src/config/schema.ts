import { BALANCING_POLICIES, LOG_LEVELS } from './types';

/** `host:port`, `[v6]:port` or `unix:/path`; port 0 asks the OS for a free port. */
const LISTEN_ADDRESS = '^(unix:.+|(\\[[0-9A-Fa-f:.]+\\]|[^\\s:/\\[\\]]+):[0-9]{1,5})$';
const METADATA_KEY = '^[0-9a-z_.-]+$';
const positiveInt = { type: 'integer', minimum: 1 } as const;
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
    service: { type: 'string' },
    intervalMs: positiveInt,
    timeoutMs: positiveInt,
  },
} as const;

/**
 * JSON schema (draft 7, for ajv 8) of a grpc-proxy config file. Cross-field rules (backend names
 * exist and are unique, a route has a condition, cert and key come together) are checked after
 * the schema, in `validate.ts`.
 */
export const proxyConfigSchema = {
  $id: 'https://github.com/grpc-proxy/grpc-proxy/config.schema.json',
  type: 'object',
  additionalProperties: false,
  required: ['backends'],
  properties: {
    listen: {
      ...listenAddress,
      type: ['string', 'array'],
      items: listenAddress,
      minItems: 1,
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      properties: { cert: nonEmptyString, key: nonEmptyString, clientCa: nonEmptyString },
    },
    backends: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'targets'],
        properties: {
          name: nonEmptyString,
          targets: { type: 'array', minItems: 1, items: nonEmptyString },
          balancing: { enum: [...BALANCING_POLICIES] },
          tls: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ca: nonEmptyString,
              cert: nonEmptyString,
              key: nonEmptyString,
              serverName: nonEmptyString,
            },
          },
          healthCheck: { ...healthCheck, type: ['boolean', 'object'] },
        },
      },
    },
    routes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['backend'],
        properties: {
          service: {
            type: 'string',
            pattern: '^[^/]+$',
            errorMessage: 'must be a service name like pkg.Service, without slashes',
          },
          method: {
            type: 'string',
            pattern: '^/[^/]+/[^/]+$',
            errorMessage: 'must be a full method name like /pkg.Service/Method',
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
          },
          backend: nonEmptyString,
        },
      },
    },
    defaultBackend: nonEmptyString,
    metadata: {
      type: 'object',
      additionalProperties: false,
      properties: {
        strip: { type: 'array', items: { type: 'string', pattern: METADATA_KEY } },
        forwardedFor: { type: 'boolean' },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxMessageBytes: positiveInt,
        maxConcurrentStreams: positiveInt,
        keepalive: {
          type: 'object',
          additionalProperties: false,
          properties: { timeMs: positiveInt, timeoutMs: positiveInt },
        },
      },
    },
    admin: {
      type: 'object',
      additionalProperties: false,
      required: ['listen'],
      properties: { listen: listenAddress },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: { level: { enum: [...LOG_LEVELS] } },
    },
    shutdown: {
      type: 'object',
      additionalProperties: false,
      properties: { drainTimeoutMs: { type: 'integer', minimum: 0 } },
    },
  },
} as const;
