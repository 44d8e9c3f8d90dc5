// Lease store write throughput: single-lease puts issued concurrently (as the server does, one per
// ACK), for the memory store and for Redis with each appendfsync setting. Prints a markdown table.
//   node_modules/.bin/node bench/store.ts [--leases 20000]
import { parseArgs } from 'node:util';
import { MemoryStore } from '../src/leases/memory-store.ts';
import { RedisStore } from '../src/leases/redis-store.ts';
import type { Lease } from '../src/leases/lease.ts';
import type { LeaseStore } from '../src/leases/store.ts';
import { startRedis } from '../test/fakes/redis-server.ts';

const { values } = parseArgs({ options: { leases: { type: 'string', default: '20000' } } });
const N = Number(values.leases);
const IN_FLIGHT = [1, 16, 256];

const lease = (i: number): Lease => ({ ip: 0x0a000000 + i, scope: 'bench', state: 'active', hw: `1:02${i.toString(16).padStart(10, '0')}`, expiresAt: Date.now() + 3_600_000, cltt: Date.now() });

/** `inFlight` writers, each putting one lease and waiting for it before the next: like concurrent ACKs. */
async function measure(store: LeaseStore, inFlight: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < N) { const i = next++; await store.put([lease(i)]); }
  }));
  return N / (Number(process.hrtime.bigint() - started) / 1e9);
}

const rows: string[] = [];
const memory = new MemoryStore();
rows.push(`| memory | ${(await Promise.all(IN_FLIGHT.map((k) => measure(memory, k)))).map((r) => Math.round(r)).join(' | ')} | — |`);
for (const appendfsync of ['no', 'everysec', 'always'] as const) {
  const redis = await startRedis({ unixSocket: true, appendonly: true, appendfsync });
  try {
    const store = await RedisStore.open({ path: redis.socket, keyPrefix: 'bench:' });
    const rates: number[] = [];
    for (const k of IN_FLIGHT) rates.push(await measure(store, k));
    rows.push(`| redis AOF appendfsync ${appendfsync} (unix socket) | ${rates.map((r) => Math.round(r)).join(' | ')} | ${store.writeRoundTrips} |`);
    await store.close();
  } finally { await redis.stop(); }
}
process.stdout.write(`${N} single-lease puts per cell, puts/s\n\n| store | 1 in flight | 16 in flight | 256 in flight | Redis round trips (all cells) |\n|---|---|---|---|---|\n${rows.join('\n')}\n`);
