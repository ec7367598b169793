export { serializeRaw, deserializeRaw, rawMethod } from './raw-serializers';
export type { RawMethodDefinition, RawMethodOptions } from './raw-serializers';
export { RawFrame } from './raw-frame';
export type { FrameDecoder } from './raw-frame';
export { codecWithParent, fromTsProto } from './codec-with-parent';
export type { Codec, CodecWithParent, TsProtoMessageFns } from './codec-with-parent';
export { encodeMessage, encodeMessagePrefix } from './message-encoder';
export type { EncodeMessageOptions } from './message-encoder';
export { MessageDecoder } from './message-decoder';
export type { DecodedMessage, MessageDecoderOptions } from './message-decoder';
export { PrefixScanner, ScanResult } from './prefix-scanner';
export type { MessageCounter } from './prefix-scanner';
export { MessageFramingError } from './framing-error';
export type { MessageFramingErrorCode } from './framing-error';
export {
  DEFAULT_MAX_MESSAGE_LENGTH,
  MAX_WIRE_MESSAGE_LENGTH,
  MESSAGE_PREFIX_LENGTH,
} from './limits';
