import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { HealthChangeListener } from '../index';
import { waitUntil } from './calls';

/** One passive-health transition as `onHealthChange` told it, with when (`performance.now()`). */
export interface HealthChange {
  readonly available: boolean;
  readonly message: string | undefined;
  readonly at: number;
}

/** Records a backend's `onHealthChange` calls; give it `log.listener`. */
export class HealthLog extends EventEmitter {
  readonly changes: HealthChange[] = [];
  readonly errors: (Error | undefined)[] = [];

  readonly listener: HealthChangeListener = (available, error) => {
    this.changes.push({ available, message: error?.message, at: performance.now() });
    this.errors.push(error);
    this.emit('change');
  };

  /** Resolves with the `count`-th change once it happened (bounded, see `waitUntil`). */
  async change(count: number, timeoutMs?: number): Promise<HealthChange> {
    await waitUntil(this, 'change', () => this.changes.length >= count, timeoutMs);
    return this.changes[count - 1];
  }
}
