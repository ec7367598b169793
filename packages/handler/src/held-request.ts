import { TRANSPARENT_RETRY_BUFFER_BYTES } from './transparent-retry';

/**
 * The client's messages already sent to the backend, kept (by reference: grpc-js frames a copy,
 * the payload is never changed) so that an attempt the backend did not process can be sent again
 * to another one. Kept until the backend answers (its response headers), and given up for good
 * once more than {@link TRANSPARENT_RETRY_BUFFER_BYTES} were sent: such a call is not retried.
 */
export class HeldRequest {
  /** The messages sent so far, in order; a new array once given up (a replay keeps the old one). */
  messages: Buffer[] = [];
  /** False once given up: the request can no longer be sent again. */
  held = true;
  private bytes = 0;

  /** A message was sent to the backend. */
  add(message: Buffer): void {
    if (!this.held) return;
    this.bytes += message.length;
    if (this.bytes > TRANSPARENT_RETRY_BUFFER_BYTES) this.drop();
    else this.messages.push(message);
  }

  /** The backend answered, or the request grew too large: nothing is kept any more. */
  drop(): void {
    if (!this.held) return;
    this.held = false;
    this.messages = [];
  }
}
