/**
 * Reads one field of an encoded protobuf message without its schema, for routes that match on
 * the first request message (`routes[].message`, a peek: `ProxyCall.firstMessage()`). Only the
 * wire format is known, so a field is named by its number (and, inside nested messages, the
 * numbers on the way down), and its value is read as text the way the wire type allows.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** Field numbers from the top-level message down through nested message fields, e.g. `[2, 1]`. */
export type FieldPath = readonly number[];

/** The largest field number protobuf allows (2^29 - 1). */
const MAX_FIELD_NUMBER = 536_870_911;

/** Nested messages followed at most this deep (a hostile message cannot make us recurse more). */
export const MAX_FIELD_PATH_DEPTH = 16;

/**
 * Parses a field path written as field numbers joined by dots (`"1"`, `"2.1"`). Throws a
 * `TypeError` saying what is wrong, for the config check.
 */
export function parseFieldPath(text: string): FieldPath {
  const parts = text.split('.');
  if (parts.length > MAX_FIELD_PATH_DEPTH) {
    throw new TypeError(`field path ${text} is deeper than ${MAX_FIELD_PATH_DEPTH} fields`);
  }
  return parts.map((part) => {
    const number = /^[1-9][0-9]{0,8}$/.test(part) ? Number(part) : NaN;
    if (!(number >= 1 && number <= MAX_FIELD_NUMBER)) {
      throw new TypeError(
        `field path ${text}: ${JSON.stringify(part)} is no field number (1 to ${MAX_FIELD_NUMBER})`,
      );
    }
    return number;
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * The value of the field at `path` in `message` as text, or `undefined` when the message does
 * not have it (proto3 leaves out fields at their default: `""`, `0`, `false`) or is not valid
 * protobuf. Length-delimited values (`string`, `bytes`) are decoded as UTF-8; varints (integers,
 * `bool`, enums) as signed decimal (`true` is `1`, an enum its number); 32- and 64-bit fixed
 * fields give nothing. As protobuf parsers do, the last occurrence wins, and a nested message
 * given in several parts is searched in each.
 */
export function readField(message: Uint8Array, path: FieldPath): string | undefined {
  if (path.length === 0) return undefined;
  try {
    return readAt(new BinaryReader(message), path, 0);
  } catch {
    return undefined; // not protobuf: nothing to match
  }
}

function readAt(reader: BinaryReader, path: FieldPath, depth: number): string | undefined {
  const wanted = path[depth];
  const last = depth === path.length - 1;
  let found: string | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== wanted) {
      reader.skip(wireType, field);
      continue;
    }
    if (wireType === WireType.LengthDelimited) {
      const bytes = reader.bytes();
      const value = last ? utf8.decode(bytes) : readAt(new BinaryReader(bytes), path, depth + 1);
      if (value !== undefined) found = value;
    } else if (wireType === WireType.Varint && last) {
      found = String(reader.int64());
    } else {
      reader.skip(wireType, field);
    }
  }
  return found;
}
