// Child processes for integration tests: bounded one-shot commands and tracked long-running ones.
// Every long-running process is remembered by PID and stopped by PID (TERM, then KILL), never by name.
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface RunResult { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stdout: string; readonly stderr: string }

export interface RunOptions {
  /** Kill the command (SIGKILL) after this long; default 20 s. */
  readonly timeoutMs?: number;
  /** Do not throw on a non-zero exit (the result carries the code). */
  readonly allowFail?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
}

export class CommandError extends Error {
  readonly result: RunResult;
  constructor(cmd: string, result: RunResult) {
    super(`${cmd} failed (code ${result.code}, signal ${result.signal}): ${result.stderr.trim().slice(0, 500)}`);
    this.result = result;
  }
}

/** Runs one command to completion, bounded by `timeoutMs`. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawnChild(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '', stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => { if (child.pid !== undefined) tryKill(child.pid, 'SIGKILL'); }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      if (code !== 0 && !opts.allowFail) reject(new CommandError(`${cmd} ${args.join(' ')}`, result));
      else resolve(result);
    });
    if (child.stdin) {
      child.stdin.on('error', () => { /* the command may exit without reading its input */ });
      child.stdin.end(opts.input);
    }
  });
}

export interface SpawnOptions {
  /** stdout and stderr are appended to this file; without it they are discarded. */
  readonly logFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface ExitInfo { readonly code: number | null; readonly signal: NodeJS.Signals | null }

/** A long-running child, stopped by its PID. */
export class TrackedProcess {
  readonly pid: number;
  readonly label: string;
  readonly logFile?: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;

  constructor(child: ChildProcess, label: string, logFile?: string) {
    if (child.pid === undefined) throw new Error(`could not start ${label}`);
    this.pid = child.pid;
    this.label = label;
    this.logFile = logFile;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => { this.exitInfo = { code, signal }; resolve(this.exitInfo); });
      child.on('error', () => { this.exitInfo ??= { code: null, signal: null }; resolve(this.exitInfo); });
    });
  }

  get running(): boolean { return this.exitInfo === undefined; }
  get exit(): ExitInfo | undefined { return this.exitInfo; }

  signal(sig: NodeJS.Signals): void { if (this.running) tryKill(this.pid, sig); }

  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(opts: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo as ExitInfo;
    tryKill(this.pid, opts.signal ?? 'SIGTERM');
    const graceMs = opts.graceMs ?? 3_000;
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => { tryKill(this.pid, 'SIGKILL'); resolve(); }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    // Children are unref'd (they must not keep a test process alive), so after a SIGKILL nothing would keep
    // the event loop running until their exit is seen: a ref'd, bounded wait does.
    if (this.running) await within(this.exited, 5_000);
    return this.exitInfo ?? { code: null, signal: 'SIGKILL' };
  }
}

/** Remembers every process it started so that `stopAll()` can end them (used from `after()`). */
export class ProcessTracker {
  private readonly procs: TrackedProcess[] = [];

  spawn(cmd: string, args: readonly string[], opts: SpawnOptions = {}): TrackedProcess {
    const fd = opts.logFile ? openSync(opts.logFile, 'a') : undefined;
    try {
      const child = spawnChild(cmd, args, {
        stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'],
        env: opts.env ?? process.env,
        detached: true, // own session: a Ctrl-C of the test runner does not hit it first; we stop it by PID
      });
      child.unref();
      const proc = new TrackedProcess(child, `${cmd} ${args.join(' ')}`, opts.logFile);
      this.procs.push(proc);
      return proc;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  get all(): readonly TrackedProcess[] { return this.procs; }

  async stopAll(graceMs = 2_000): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop({ graceMs })));
  }

  /** Synchronous last resort (process 'exit' hook): SIGKILL whatever is still running. */
  killAllSync(): void {
    for (const p of this.procs) if (p.running) tryKill(p.pid, 'SIGKILL');
  }
}

export function tryKill(pid: number, sig: NodeJS.Signals | number): boolean {
  try { process.kill(pid, sig); return true; } catch { return false; }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for `p` at most `ms` (a ref'd timer, cleared when `p` settles first); true if `p` settled in time. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((r) => { timer = setTimeout(() => r(false), ms); });
  try { return await Promise.race([p.then(() => true, () => true), expired]); } finally { clearTimeout(timer); }
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs: number; intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (let i = 0; i < 100_000; i++) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) break;
    await sleep(opts.intervalMs ?? 100);
  }
  throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`);
}
