/** The calls a proxy is running, so that a drain can wait for them and end the stragglers. */
export class CallSet<T> {
  private readonly calls = new Set<T>();
  private onEmpty: (() => void) | undefined = undefined;

  get size(): number {
    return this.calls.size;
  }

  add(call: T): void {
    this.calls.add(call);
  }

  delete(call: T): void {
    if (this.calls.delete(call) && this.calls.size === 0) this.onEmpty?.();
  }

  /** A snapshot of the running calls (ending one while iterating is safe). */
  running(): T[] {
    return [...this.calls];
  }

  /** Resolves once no call runs, or after `timeoutMs`, whichever comes first. */
  whenEmpty(timeoutMs: number): Promise<void> {
    if (this.calls.size === 0 || timeoutMs <= 0) return Promise.resolve();
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
