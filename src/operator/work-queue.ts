// A work queue of string keys (namespace/name), as client-go's: a key is never processed by two workers at
// once; a key added while processing is processed again afterwards; failures retry with exponential backoff.
import type { Clock } from '../clock.ts';

export interface WorkQueueOptions {
  readonly clock: Clock;
  readonly workers: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly process: (key: string) => Promise<void>;
  readonly onResult?: (key: string, ok: boolean, ms: number, err?: unknown) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { cancel(): void }>();
  private active = 0;
  private stopped = false;
  private readonly options: WorkQueueOptions;
  private idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) { this.options = options; }

  get depth(): number { return this.queue.length + this.timers.size; }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) { this.dirty.add(key); return; }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Retries `key` after the backoff for its failure count. */
  private addRateLimited(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.addAfter(key, Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (n - 1)));
  }

  /** Adds `key` after `ms` (not counted as a failure); an earlier pending retry of the key is replaced. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    this.timers.get(key)?.cancel();
    this.timers.set(key, this.options.clock.setTimer(Math.max(0, ms), () => { this.timers.delete(key); this.add(key); }));
  }

  failureCount(key: string): number { return this.failures.get(key) ?? 0; }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
  }

  /** Resolves when nothing is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0 && this.timers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.stopped && this.active < this.options.workers) {
      const i = this.queue.findIndex((k) => !this.processing.has(k));
      if (i < 0) break;
      const key = this.queue.splice(i, 1)[0]!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.active === 0 && this.queue.length === 0 && this.timers.size === 0) {
      const waiters = this.idleWaiters; this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    const started = this.options.clock.now();
    let ok = true, error: unknown;
    try { await this.options.process(key); } catch (err) { ok = false; error = err; }
    this.options.onResult?.(key, ok, this.options.clock.now() - started, error);
    this.processing.delete(key);
    this.active--;
    if (ok) this.failures.delete(key);
    else if (!this.stopped) this.addRateLimited(key);
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
  }
}
