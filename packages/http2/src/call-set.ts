/**
 * A call a {@link CallSet} can hold: its place in the set's list, kept on the call itself (fields
 * set at construction, so every call has the same shape).
 */
export abstract class CallSetMember<T extends CallSetMember<T>> {
  previousCall: T | undefined = undefined;
  nextCall: T | undefined = undefined;
  inCallSet = false;
}

/**
 * The calls a proxy is running, so that a drain can wait for them and end the stragglers. A
 * list threaded through the calls themselves rather than a `Set`: adding and removing a call,
 * once each per call, then hash nothing and allocate nothing.
 */
export class CallSet<T extends CallSetMember<T>> {
  private head: T | undefined = undefined;
  private count = 0;
  private onEmpty: (() => void) | undefined = undefined;

  get size(): number {
    return this.count;
  }

  add(call: T): void {
    if (call.inCallSet) return;
    call.inCallSet = true;
    call.previousCall = undefined;
    call.nextCall = this.head;
    if (this.head !== undefined) this.head.previousCall = call;
    this.head = call;
    this.count++;
  }

  delete(call: T): void {
    if (!call.inCallSet) return;
    call.inCallSet = false;
    const { previousCall, nextCall } = call;
    if (previousCall === undefined) this.head = nextCall;
    else previousCall.nextCall = nextCall;
    if (nextCall !== undefined) nextCall.previousCall = previousCall;
    call.previousCall = call.nextCall = undefined;
    if (--this.count === 0) this.onEmpty?.();
  }

  /** A snapshot of the running calls (ending one while iterating is safe). */
  running(): T[] {
    const calls: T[] = [];
    for (let call = this.head; call !== undefined; call = call.nextCall) calls.push(call);
    return calls;
  }

  /** Resolves once no call runs, or after `timeoutMs`, whichever comes first. */
  whenEmpty(timeoutMs: number): Promise<void> {
    if (this.count === 0 || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.onEmpty = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.onEmpty = done;
    });
  }
}
