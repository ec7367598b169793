/**
 * The TypeScript type of the values a JSON schema accepts, for the part of JSON schema the
 * config schema uses: `type` (one name or a list), `enum`, `items`, `properties` with
 * `required`, and `additionalProperties` as a schema (a map). Other keywords (patterns, bounds,
 * descriptions) narrow nothing here. The config types are derived with it, so that the schema
 * ajv checks and the types the code reads cannot disagree.
 */
export type FromSchema<S> = S extends { readonly enum: readonly (infer E)[] }
  ? E
  : S extends { readonly type: infer T }
    ? T extends readonly (infer Each)[]
      ? OfType<S, Each>
      : OfType<S, T>
    : unknown;

type OfType<S, T> = T extends 'string'
  ? string
  : T extends 'integer' | 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'array'
        ? S extends { readonly items: infer Item }
          ? FromSchema<Item>[]
          : unknown[]
        : T extends 'object'
          ? ObjectOf<S>
          : never;

type RequiredKeys<S> = S extends { readonly required: readonly (infer K)[] } ? K : never;

type Flatten<T> = { [K in keyof T]: T[K] } & {};

type ObjectOf<S> = S extends { readonly properties: infer P }
  ? Flatten<
      { -readonly [K in keyof P as K extends RequiredKeys<S> ? K : never]: FromSchema<P[K]> } & {
        -readonly [K in keyof P as K extends RequiredKeys<S> ? never : K]?: FromSchema<P[K]>;
      }
    >
  : S extends { readonly additionalProperties: infer Value extends object }
    ? Record<string, FromSchema<Value>>
    : Record<string, unknown>;
