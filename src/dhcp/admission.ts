// Admission control at the UDP edge: per-client and per-relay token buckets (a client or relay that
// floods, or a starvation attack from many MACs behind one relay, is limited and counted while
// everyone else is served) and a bounded work queue that sheds the OLDEST waiting packet when the
// server is overloaded (the client of a stale packet has retransmitted by then). Pure data
// structures with injected time; the config lives in `server.limits` (`LimitsConfig` in config/schema.ts,
// defaults and bounds in config/defaults.ts, validated in config/validate-server.ts).

export type TakeResult = 'ok' | 'limited' | 'limited-first';

/**
 * Token buckets by key, bounded in memory: the least recently used key is forgotten first (a
 * forgotten key starts again with a full bucket, which only errs towards serving).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number; limited: boolean }>();
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxKeys: number;

  constructor(opts: { ratePerSecond: number; burst: number; maxKeys?: number }) {
    this.rate = opts.ratePerSecond;
    this.burst = Math.max(1, opts.burst);
    this.maxKeys = Math.max(1, opts.maxKeys ?? 100_000);
  }

  get enabled(): boolean { return this.rate > 0; }
  get size(): number { return this.buckets.size; }

  /** Takes one token for `key`; `limited-first` = the first refusal since the key was last admitted (log it once). */
  take(key: string, now: number): TakeResult {
    if (!this.enabled) return 'ok';
    const prev = this.buckets.get(key);
    const tokens = prev === undefined ? this.burst : Math.min(this.burst, prev.tokens + ((now - prev.at) / 1000) * this.rate);
    this.buckets.delete(key);
    const admitted = tokens >= 1;
    this.buckets.set(key, { tokens: admitted ? tokens - 1 : tokens, at: now, limited: !admitted });
    while (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
    if (admitted) return 'ok';
    return prev?.limited === true ? 'limited' : 'limited-first';
  }
}

/** FIFO with a bound: pushing onto a full queue evicts and returns the oldest item. */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  private readonly max: number;
  constructor(max: number) { this.max = Math.max(1, max); }
  get size(): number { return this.items.length - this.head; }

  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.size >= this.max) evicted = this.shift();
    this.items.push(item);
    return evicted;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    return item;
  }
}
