import { FAN_OUT_ERROR_POLICIES, FAN_OUT_RESPONSES } from './types';

// Not imported from schema-backends.ts, which imports this file: a value read from a module
// still loading would be undefined.
const nonEmptyString = { type: 'string', minLength: 1 } as const;

/**
 * `routes[].fanOut`, the part of {@link proxyConfigSchema} that sends a matching call to several
 * backends at once (a `FanOutBackend` of `@grpc-proxy/handler`; see schema.ts). A route gives
 * `backend` or `fanOut`, never both (checked in validate.ts, with the backend names).
 */
export const fanOutSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['backends', 'responses'],
  description:
    'instead of `backend`: every matching call goes to one target of each of these backends at once; client messages go to all, backpressure follows the slowest',
  properties: {
    name: {
      ...nonEmptyString,
      description:
        'names the fan-out in logs and metrics (the `backend` label of its calls), not a name from `backends`',
    },
    backends: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: nonEmptyString,
      description: 'names from `backends`, each called once per call, in this order',
    },
    responses: {
      enum: FAN_OUT_RESPONSES,
      description:
        '`stream`: each backend message goes to the client as it arrives (streaming methods); `merge`: once all ended, one message, their concatenation in backend order (unary; repeated fields append)',
    },
    onError: {
      enum: FAN_OUT_ERROR_POLICIES,
      description:
        "`first-error`: the first failure ends the call with its status, the other backends cancelled; `skip`: failures left out, `OK` with the others' messages (all failed: the first failure's status)",
    },
  },
} as const;
