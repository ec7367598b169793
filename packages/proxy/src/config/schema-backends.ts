import { fanOutSchema } from './schema-fan-out';
import { mirrorSchema } from './schema-mirror';
import { BALANCING_POLICIES } from './types';

/** The `backends[]` and `routes[]` parts of {@link proxyConfigSchema} (see schema.ts). */

/** A metadata key as routes and `metadata.strip` take it: lower case, as HTTP/2 sends it. */
export const METADATA_KEY_PATTERN = '^[0-9a-z_.-]+$';
/** An integer of at least 1. */
export const positiveInt = { type: 'integer', minimum: 1 } as const;
/** A string of at least one character. */
export const nonEmptyString = { type: 'string', minLength: 1 } as const;

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

/** One `backends[]` entry. */
export const backendSchema = {
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

/** One `routes[]` entry (exactly one of `backend` and `fanOut`: checked in validate.ts). */
export const routeSchema = {
  type: 'object',
  additionalProperties: false,
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
        pattern: METADATA_KEY_PATTERN,
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
    message: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: ['string', 'integer', 'boolean', 'array'],
        items: { type: ['string', 'integer', 'boolean'] },
        minItems: 1,
      },
      description:
        "peek: the first request message's field at this path of field numbers (`9.2`: field 2 in field 9) equals the value (or one of the list); strings as text, integers as decimal, `true` as `1`",
    },
    backend: {
      ...nonEmptyString,
      description:
        'where matching calls go (a rule needs at least one of `service`, `method`, `metadata`, `message`)',
    },
    fanOut: fanOutSchema,
    mirror: mirrorSchema(
      'shadow traffic: matching calls are also copied to this backend (or each of a list), replies discarded',
    ),
  },
} as const;
