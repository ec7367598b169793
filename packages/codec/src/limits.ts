/** Length of the prefix before every gRPC message: 1 flags byte and a 4-byte big-endian length. */
export const MESSAGE_PREFIX_LENGTH = 5;

/** The largest payload the 4-byte length of the prefix can describe: 4 GiB - 1 (4294967295). */
export const MAX_WIRE_MESSAGE_LENGTH = 0xffff_ffff;

/**
 * 64 MiB: the default maximum payload length of {@link MessageDecoder}, the same default the
 * proxy handler applies to each message. grpc-js alone would cap received messages at 4 MiB.
 */
export const DEFAULT_MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;

/** Validates a length that must fit the 4-byte prefix; throws a `RangeError` naming `name`. */
export function checkWireLength(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_WIRE_MESSAGE_LENGTH) {
    throw new RangeError(
      `${name} must be an integer from 0 to ${MAX_WIRE_MESSAGE_LENGTH}, got ${value}`,
    );
  }
  return value;
}
