// Leases in Redis (the server pod's sidecar, over a unix socket). Layout: one hash
// `<prefix>leases` (field = dotted address, value = lease-codec record) and one hash `<prefix>meta`.
// Writes are group-committed: every put() made while a write is in flight, or in the same
// event-loop turn, goes out as ONE HSET, and each caller resolves when that HSET is acknowledged.
import { readFile } from 'node:fs/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { StoreError } from '../errors.ts';
import { log } from '../log.ts';
import { formatIpv4, isIpv4, parseIpv4, type Ipv4 } from '../net/ipv4.ts';
import type { Lease } from './lease.ts';
import { parseLease, serializeLease } from './lease-codec.ts';
import type { LeaseStore } from './store.ts';

export interface RedisStoreOptions {
  readonly url?: string;
  readonly path?: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly keyPrefix: string;
  /** Bound on one command, so an ACK waiting on a dead Redis fails fast instead of hanging. */
  readonly commandTimeoutMs?: number;
  /** A PING this often while idle, so a hung Redis (stopped, black-holed) shows as unhealthy; default 2000, 0 = off. */
  readonly healthCheckMs?: number;
  readonly onCorruptRecord?: (ip: string, err: StoreError) => void;
}

interface Waiter { readonly leases: readonly Lease[]; resolve(): void; reject(err: unknown): void }

const SCAN_PAGE = 1000;
/** Redis accepts huge argument lists, but a bounded HSET keeps one write's latency bounded. */
const MAX_FIELDS_PER_WRITE = 5000;

export class RedisStore implements LeaseStore {
  private readonly client: Redis;
  private readonly leasesKey: string;
  private readonly metaKey: string;
  private readonly onCorruptRecord: RedisStoreOptions['onCorruptRecord'];
  private pending: Waiter[] = [];
  private writing = false;
  private scheduled = false;
  /** Round trips used for writes; lets tests and benchmarks see the coalescing. */
  writeRoundTrips = 0;
  corruptRecords = 0;

  /**
   * The last command (or health PING) failed. A connected client says nothing of a Redis that stopped
   * answering (SIGSTOP, a black hole): only failed commands do. Cleared by the next success.
   */
  private failing = false;
  private healthTimer: NodeJS.Timeout | undefined;

  private constructor(client: Redis, options: RedisStoreOptions) {
    this.client = client;
    const every = options.healthCheckMs ?? 2000;
    if (every > 0) {
      this.healthTimer = setInterval(() => {
        if (this.client.status !== 'ready') return;
        this.client.ping().then(() => { this.failing = false; }, () => { this.failing = true; });
      }, every);
      this.healthTimer.unref();
    }
    this.leasesKey = `${options.keyPrefix}leases`;
    this.metaKey = `${options.keyPrefix}meta`;
    this.onCorruptRecord = options.onCorruptRecord;
  }

  /** Connects (waiting for the first connection) and returns the store. */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const password = options.passwordFile ? (await readFile(options.passwordFile, 'utf8')).trim() : options.password;
    const common: RedisOptions = {
      lazyConnect: true,
      // Fail commands while disconnected instead of queueing them: a client waiting for an ACK
      // retries by itself, and a queue would only grow while Redis is away.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      ...(password ? { password } : {}),
    };
    const client = options.path ? new Redis({ ...common, path: options.path }) : new Redis(options.url ?? 'redis://127.0.0.1:6379', common);
    client.on('error', (err: Error) => log.warn('store.redis.error', { message: err.message }));
    const store = new RedisStore(client, options);
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw new StoreError('store_unavailable', `cannot connect to Redis at ${options.path ?? options.url}: ${(err as Error).message}`, { cause: err });
    }
    return store;
  }

  async loadAll(): Promise<Lease[]> {
    const out: Lease[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.client.hscan(this.leasesKey, cursor, 'COUNT', SCAN_PAGE);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const field = flat[i]!, value = flat[i + 1]!;
        try {
          if (!isIpv4(field)) throw new StoreError('bad_record', `lease key ${JSON.stringify(field)} is not an address`);
          out.push(parseLease(parseIpv4(field), value));
        } catch (err) {
          // A corrupt record must not stop the server from starting: report it, skip it.
          this.corruptRecords++;
          const storeErr = err instanceof StoreError ? err : new StoreError('bad_record', String(err));
          log.error('store.record.corrupt', { ip: field, reason: storeErr.message });
          this.onCorruptRecord?.(field, storeErr);
        }
      }
    } while (cursor !== '0');
    return out;
  }

  put(leases: readonly Lease[]): Promise<void> {
    if (leases.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending.push({ leases, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.writing || this.scheduled) return;
    this.scheduled = true;
    // setImmediate lets every put() of this event-loop turn join the batch.
    setImmediate(() => { this.scheduled = false; void this.flush(); });
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch: Waiter[] = [];
    const args: string[] = [];
    while (this.pending.length && args.length / 2 < MAX_FIELDS_PER_WRITE) {
      const waiter = this.pending.shift()!;
      batch.push(waiter);
      for (const lease of waiter.leases) args.push(formatIpv4(lease.ip), serializeLease(lease));
    }
    this.writing = true;
    try {
      this.writeRoundTrips++;
      await this.client.hset(this.leasesKey, ...args);
      this.failing = false;
      for (const w of batch) w.resolve();
    } catch (err) {
      this.failing = true;
      const failure = new StoreError('store_unavailable', `Redis write failed: ${(err as Error).message}`, { cause: err });
      for (const w of batch) w.reject(failure);
    } finally {
      this.writing = false;
      if (this.pending.length) this.schedule();
    }
  }

  async remove(ips: readonly Ipv4[]): Promise<void> {
    if (ips.length === 0) return;
    await this.wrap(() => this.client.hdel(this.leasesKey, ...ips.map(formatIpv4)));
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.wrap(() => this.client.hget(this.metaKey, key))) ?? undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.wrap(() => this.client.hset(this.metaKey, key, value));
  }

  healthy(): boolean { return this.client.status === 'ready' && !this.failing; }

  async close(): Promise<void> {
    if (this.healthTimer) clearInterval(this.healthTimer);
    try { await this.client.quit(); } catch { this.client.disconnect(); }
  }

  private async wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.failing = false;
      return result;
    } catch (err) {
      this.failing = true;
      throw new StoreError('store_unavailable', `Redis command failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
