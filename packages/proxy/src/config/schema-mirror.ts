import { nonEmptyString } from './schema-backends';

/** The `mirror` parts of {@link proxyConfigSchema} (on a route and at the top level; see schema.ts). */

const mirrorTarget = {
  type: 'object',
  additionalProperties: false,
  required: ['backend'],
  properties: {
    backend: {
      ...nonEmptyString,
      description:
        'the backend (a name from `backends`, which may also serve routes) that gets the copies',
    },
    percent: {
      type: 'number',
      minimum: 0,
      maximum: 100,
      description: 'share of calls copied, sampled per call: `100` every call, `0` none',
    },
  },
} as const;

/**
 * `mirror`: one `{ backend, percent }` or a list. The copies carry `metadata.mirrorHeader: 1`;
 * their replies are discarded, and a copy never slows, changes or fails the call.
 */
export function mirrorSchema<const D extends string>(description: D) {
  return {
    ...mirrorTarget,
    type: ['object', 'array'],
    items: mirrorTarget,
    minItems: 1,
    description,
  } as const;
}
