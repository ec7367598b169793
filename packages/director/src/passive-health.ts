/**
 * Called on each passive-health transition of a backend: `available` false with the connection
 * error when it leaves the rotation, true (error `undefined`) when it comes back.
 */
export type HealthChangeListener = (available: boolean, error: Error | undefined) => void;

/**
 * Passive health of one backend: up until a connection attempt fails, then down until one
 * connects. Fed by the backend's own grpc-js channel watch and by engines that open their own
 * connections (`Backend.reportConnection`); both give the same state.
 */
export class PassiveHealth {
  private down = false;
  private error: Error | undefined;
  /** Counts down transitions, so a late detail of an episode that ended is dropped. */
  private episode = 0;
  /** A down transition whose listener call waits for a more precise error. */
  private unannounced = false;
  private closed = false;

  constructor(private readonly listener: HealthChangeListener | undefined) {}

  /** True unless a connection attempt failed and none has connected since. */
  get up(): boolean {
    return !this.down;
  }

  /** The last connection error while down; `undefined` while up. */
  get connectionError(): Error | undefined {
    return this.error;
  }

  /** A connection attempt connected: back in rotation. */
  connected(): void {
    if (this.closed || !this.down) return;
    this.announcePending();
    this.down = false;
    this.error = undefined;
    this.tell(true, undefined);
  }

  /** A connection attempt failed with `error`: out of rotation (the error is kept while down). */
  failed(error: Error): void {
    if (this.closed) return;
    this.error = error;
    if (this.down) {
      // The listener hears of the down transition once, with the most precise error known.
      if (this.unannounced) this.announcePending();
      return;
    }
    this.down = true;
    this.episode++;
    this.tell(false, error);
  }

  /**
   * Out of rotation at once with a `placeholder` error, the listener being told when `explain`
   * brings the precise one (grpc-js gives it only through a call, a few milliseconds later).
   * While already down, the error in place is kept until `explain`. Call `explain` at most once
   * (a later `failing` of the same episode hands out another); it does nothing once the backend
   * came back or was closed.
   */
  failing(placeholder: Error): (error: Error) => void {
    if (this.closed) return () => undefined;
    if (!this.down) {
      this.down = true;
      this.episode++;
      this.error = placeholder;
      this.unannounced = true;
    }
    const episode = this.episode;
    return (error) => {
      if (this.closed || !this.down || episode !== this.episode) return;
      this.error = error;
      this.announcePending();
    };
  }

  /** No more transitions nor listener calls. */
  close(): void {
    this.closed = true;
  }

  private announcePending(): void {
    if (!this.unannounced) return;
    this.unannounced = false;
    this.tell(false, this.error);
  }

  /**
   * Calls the listener; what it throws is rethrown on its own (like an event listener's), not
   * into grpc-js's state machine that called us.
   */
  private tell(available: boolean, error: Error | undefined): void {
    try {
      this.listener?.(available, error);
    } catch (thrown) {
      queueMicrotask(() => {
        throw thrown;
      });
    }
  }
}
