'use strict';
/**
 * Child processes of the bench: spawned with piped output, waited for (a `READY <port>` line or
 * an accepting TCP port, always with a deadline), and stopped on exit, even on Ctrl-C.
 */
const { spawn } = require('node:child_process');
const net = require('node:net');
const readline = require('node:readline');

const live = new Set();

/** A spawned process with line-oriented stdout and the tail of its stderr for error messages. */
class ManagedProcess {
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid;
    this.stderrTail = '';
    this.lines = [];
    this.lineWaiters = [];
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.child.once('error', (error) => (this.stderrTail += `\n${error.message}`));
    this.child.stderr.on('data', (chunk) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    live.add(this);
    this.exited.then(() => live.delete(this));
  }

  onLine(line) {
    // Only the recent lines are kept: a chatty process must not grow the bench's memory.
    this.lines.push(line);
    if (this.lines.length > 100) this.lines.shift();
    for (const waiter of [...this.lineWaiters]) {
      if (waiter.pattern.test(line)) {
        this.lineWaiters.splice(this.lineWaiters.indexOf(waiter), 1);
        waiter.resolve(waiter.pattern.exec(line));
      }
    }
  }

  /** Resolves with the regexp match of the first stdout line matching `pattern`. */
  waitForLine(pattern, timeoutMs, what = String(pattern)) {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(pattern.exec(seen));
    return this.deadline(
      new Promise((resolve) => this.lineWaiters.push({ pattern, resolve })),
      timeoutMs,
      what,
    );
  }

  /** Resolves once 127.0.0.1:`port` accepts a TCP connection. */
  waitForPort(port, timeoutMs) {
    const poll = async () => {
      for (;;) {
        if (await canConnect(port)) return;
        await delay(50);
      }
    };
    return this.deadline(poll(), timeoutMs, `port ${port} to accept connections`);
  }

  /** Races `promise` against the deadline and against the process exiting first. */
  async deadline(promise, timeoutMs, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(this.failure(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      timer.unref();
    });
    const exit = this.exited.then(({ code, signal }) => {
      throw this.failure(`exited (${signal ?? code}) while waiting for ${what}`);
    });
    try {
      return await Promise.race([promise, timeout, exit]);
    } finally {
      clearTimeout(timer);
    }
  }

  failure(message) {
    const tail = this.stderrTail.trim().split('\n').slice(-5).join('\n    ');
    return new Error(`${this.name} ${message}${tail ? `\n    ${tail}` : ''}`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit code and signal. */
  async stop(graceMs = 5000) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A free TCP port on 127.0.0.1 (for peers that cannot report the port they bound). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Kills every process still alive (used on exit and on Ctrl-C). */
function killAll() {
  for (const managed of live) managed.child.kill('SIGKILL');
}

/** Signals that stop the bench: its children die first, then it dies of the same signal. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'];

function onStopSignal(signal) {
  killAll();
  // Handlers off first, so that the re-raised signal takes its default action (the exit status
  // a shell expects after Ctrl-C); `exit` handlers do not run then, hence the killAll above.
  for (const name of STOP_SIGNALS) process.off(name, onStopSignal);
  process.kill(process.pid, signal);
}

process.once('exit', killAll);
for (const signal of STOP_SIGNALS) process.on(signal, onStopSignal);

module.exports = { ManagedProcess, freePort, delay, killAll };
