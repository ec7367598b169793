import cluster, { type Worker } from 'node:cluster';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { CommandOutput, ShutdownSignal } from './command-io';
import {
  isProxyMessage,
  WORKER_CONFIG_ENV,
  WORKER_ENV,
  type FromWorker,
  type ToWorker,
} from './cluster-messages';
import type { ResolvedProxyConfig } from './config/types';

/**
 * How a dead worker is replaced: after 100 ms, doubling for each death in a row up to 30 s; a
 * worker that served for 10 s resets the count. A worker that cannot start therefore costs one
 * attempt every 30 s at most, never a crash loop, and the primary never exits because of it.
 */
export const WORKER_RESTART_BACKOFF = { initialMs: 100, maxMs: 30_000, stableAfterMs: 10_000 };

/** The command's bin: what every worker runs (from `src/` under ts-jest as from `dist/`). */
const BIN = path.join(__dirname, '..', 'bin', 'grpc-proxy.js');

interface Slot {
  readonly id: number;
  worker?: Worker;
  listening: boolean;
  startedAt: number;
  deathsInARow: number;
  timer?: NodeJS.Timeout;
}

/** Options of {@link WorkerSupervisor}. */
export interface SupervisorOptions {
  /** Worker processes. */
  readonly count: number;
  /** The command's arguments, given to every worker. */
  readonly argv: readonly string[];
  /** Where the workers' output goes: piped there, or inherited when it is `process.stdout`. */
  readonly stdout: CommandOutput;
  readonly stderr: CommandOutput;
  readonly logger: Logger;
  /** Hears each replacement of a dead worker. */
  onRestart(): void;
}

/** Forks the command's workers, replaces those that die, and asks them questions. */
export class WorkerSupervisor {
  private readonly slots: Slot[];
  private stopping = false;
  private nextId = 0;
  private startup?: { resolve(addresses: readonly string[]): void; reject(error: Error): void };
  private addresses: readonly string[] = [];
  private readonly exitCodes: number[] = [];
  private allExited?: () => void;

  constructor(
    private readonly options: SupervisorOptions,
    /** The config a new worker serves (the primary's running one, reloads included). */
    private config: ResolvedProxyConfig,
  ) {
    this.slots = Array.from({ length: options.count }, (_, index) => ({
      id: index + 1,
      listening: false,
      startedAt: 0,
      deathsInARow: 0,
    }));
  }

  /** Starts every worker; resolves with their listen addresses once all listen. */
  start(): Promise<readonly string[]> {
    const inherit = this.options.stdout === process.stdout;
    cluster.setupPrimary({ exec: BIN, args: [...this.options.argv], silent: !inherit });
    const started = new Promise<readonly string[]>((resolve, reject) => {
      this.startup = { resolve, reject };
    });
    this.slots.forEach((slot) => this.fork(slot));
    return started;
  }

  /** The config new workers get from now on. */
  setConfig(config: ResolvedProxyConfig): void {
    this.config = config;
  }

  /** Workers that run and listen now. */
  get running(): number {
    return this.slots.filter((slot) => slot.listening).length;
  }

  /** Why not every worker takes calls, or undefined. */
  missingWorker(): string | undefined {
    const missing = this.slots.find((slot) => !slot.listening);
    return missing && `worker ${missing.id} is not running`;
  }

  /** Forwards a stop signal to every worker; no worker is replaced from now on. */
  stop(signal: ShutdownSignal): void {
    this.stopping = true;
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      slot.worker?.send({ grpcProxy: 'signal', signal } satisfies ToWorker);
    }
  }

  /** Resolves with every worker's exit code once none runs (after {@link stop}). */
  exited(): Promise<readonly number[]> {
    if (this.slots.every((slot) => slot.worker === undefined)) {
      return Promise.resolve(this.exitCodes);
    }
    return new Promise((resolve) => (this.allExited = () => resolve(this.exitCodes)));
  }

  /**
   * Sends `build(id)` to every listening worker and resolves with each answer by slot; a worker
   * that does not answer within `timeoutMs` (or dies) answers `undefined`.
   */
  async ask<T extends FromWorker>(
    build: (id: number) => ToWorker,
    timeoutMs: number,
  ): Promise<Map<number, T | undefined>> {
    const id = ++this.nextId;
    const asked = this.slots.filter((slot) => slot.listening && slot.worker);
    const answers = await Promise.all(
      asked.map((slot) => this.answerOf<T>(slot.worker!, id, build(id), timeoutMs)),
    );
    return new Map(asked.map((slot, index) => [slot.id, answers[index]]));
  }

  private answerOf<T extends FromWorker>(
    worker: Worker,
    id: number,
    message: ToWorker,
    timeoutMs: number,
  ): Promise<T | undefined> {
    return new Promise((resolve) => {
      const done = (answer: T | undefined) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(answer);
      };
      const onMessage = (answer: unknown) => {
        if (isProxyMessage<FromWorker>(answer) && 'id' in answer && answer.id === id) {
          done(answer as T);
        }
      };
      const onExit = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.send(message);
    });
  }

  private fork(slot: Slot): void {
    slot.timer = undefined;
    slot.startedAt = performance.now();
    const worker = cluster.fork({
      [WORKER_ENV]: String(slot.id),
      [WORKER_CONFIG_ENV]: JSON.stringify(this.config),
    });
    slot.worker = worker;
    if (worker.process.stdout) this.pipe(worker.process.stdout, this.options.stdout);
    if (worker.process.stderr) this.pipe(worker.process.stderr, this.options.stderr);
    worker.on('message', (message: unknown) => {
      if (!isProxyMessage<FromWorker>(message) || message.grpcProxy !== 'listening') return;
      slot.listening = true;
      this.addresses = message.addresses;
      if (this.startup === undefined) {
        this.options.logger.info({ worker: slot.id, pid: worker.process.pid }, 'worker started');
      } else if (this.slots.every((each) => each.listening)) {
        this.startup.resolve(this.addresses);
        this.startup = undefined;
      }
    });
    worker.on('exit', (code, signal) => this.onExit(slot, worker, code, signal));
  }

  /** Passes a worker's output on line by line (the command's output takes whole lines). */
  private pipe(stream: NodeJS.ReadableStream, to: CommandOutput): void {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      to.write(`${line}\n`);
    });
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.listening = false;
    if (this.startup !== undefined) {
      this.startup.reject(
        new Error(`worker ${slot.id} exited before listening (code ${code}, signal ${signal})`),
      );
      this.startup = undefined;
      this.stopping = true;
    }
    if (this.stopping) {
      this.exitCodes.push(code ?? 1);
      if (this.slots.every((each) => each.worker === undefined)) this.allExited?.();
      return;
    }
    const backoff = WORKER_RESTART_BACKOFF;
    if (performance.now() - slot.startedAt >= backoff.stableAfterMs) slot.deathsInARow = 0;
    slot.deathsInARow += 1;
    const delayMs = Math.min(backoff.initialMs * 2 ** (slot.deathsInARow - 1), backoff.maxMs);
    this.options.logger.warn(
      { worker: slot.id, pid: worker.process.pid, code, signal, restartInMs: delayMs },
      `worker ${slot.id} exited; a new one starts in ${delayMs} ms`,
    );
    this.options.onRestart();
    slot.timer = setTimeout(() => this.fork(slot), delayMs);
  }

  /** Stops every worker at once (a failed start). */
  kill(): void {
    this.stopping = true;
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      slot.worker?.process.kill('SIGKILL');
    }
  }
}
