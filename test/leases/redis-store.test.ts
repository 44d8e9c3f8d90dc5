import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/leases/redis-store.ts';
import type { Lease } from '../../src/leases/lease.ts';
import { parseIpv4 } from '../../src/net/ipv4.ts';
import { startRedis, type RunningRedis } from '../fakes/redis-server.ts';

const BASE = parseIpv4('10.0.0.0');
const lease = (i: number, extra: Partial<Lease> = {}): Lease => ({
  ip: BASE + i, scope: 'lab', state: 'active', hw: `1:0200000${i.toString(16).padStart(5, '0')}`, expiresAt: 2_000_000_000_000 + i, cltt: 1_900_000_000_000, ...extra,
});

describe('RedisStore against a real redis-server', () => {
  let redis: RunningRedis;
  before(async () => { redis = await startRedis({ unixSocket: true, password: 's3cret', appendonly: true, appendfsync: 'always' }); });
  after(async () => { await redis.stop(); });

  it('puts, loads, removes and keeps meta values (unix socket, password)', async () => {
    const store = await RedisStore.open({ path: redis.socket, password: 's3cret', keyPrefix: 't1:' });
    try {
      const full = lease(1, { clientId: '01aabb', hostname: 'pc', tstp: 5, tsfp: 6, partnerExpiresAt: 7, pendingAck: true });
      await store.put([full, lease(2)]);
      assert.deepEqual((await store.loadAll()).sort((a, b) => a.ip - b.ip), [full, lease(2)]);
      await store.remove([BASE + 2]);
      assert.deepEqual(await store.loadAll(), [full]);
      await store.setMeta('failover.state', '{"state":"normal"}');
      assert.equal(await store.getMeta('failover.state'), '{"state":"normal"}');
      assert.equal(await store.getMeta('missing'), undefined);
      assert.equal(store.healthy(), true);
    } finally { await store.close(); }
  });

  it('coalesces concurrent puts into few round trips and loads 10k leases', async () => {
    const store = await RedisStore.open({ url: redis.url, keyPrefix: 't2:' });
    try {
      await Promise.all(Array.from({ length: 10_000 }, (_, i) => store.put([lease(i)])));
      assert.ok(store.writeRoundTrips <= 10, `10k concurrent puts took ${store.writeRoundTrips} round trips`);
      const all = await store.loadAll();
      assert.equal(all.length, 10_000);
      assert.deepEqual(all.find((l) => l.ip === BASE + 4321), lease(4321));
    } finally { await store.close(); }
  });

  it('skips and counts corrupt records instead of failing start-up', async () => {
    const raw = new Redis(redis.url, { lazyConnect: true });
    await raw.connect();
    await raw.hset('t3:leases', '10.0.0.1', 'not json', 'garbage', '{"v":1}', '10.0.0.3', '{"v":9}');
    await raw.quit();
    const store = await RedisStore.open({ url: redis.url, keyPrefix: 't3:' });
    try {
      await store.put([lease(2)]);
      assert.deepEqual(await store.loadAll(), [lease(2)]);
      assert.equal(store.corruptRecords, 3);
    } finally { await store.close(); }
  });

  it('keeps every acknowledged lease across kill -9 of redis (appendfsync always)', async () => {
    const store = await RedisStore.open({ url: redis.url, keyPrefix: 't4:' });
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.put([lease(i)])));
    await redis.kill9();
    store.close().catch(() => {});
    await redis.restart();
    const again = await RedisStore.open({ url: redis.url, keyPrefix: 't4:' });
    try { assert.equal((await again.loadAll()).length, 500); } finally { await again.close(); }
  });

  it('is unhealthy while redis is hung (SIGSTOP: connected, never answering), healthy again after SIGCONT', async () => {
    const store = await RedisStore.open({ url: redis.url, keyPrefix: 't6:', commandTimeoutMs: 500, healthCheckMs: 200 });
    const waitHealth = async (want: boolean) => {
      const deadline = Date.now() + 10_000;
      while (store.healthy() !== want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return store.healthy();
    };
    try {
      assert.equal(await waitHealth(true), true);
      process.kill(redis.pid(), 'SIGSTOP');
      try {
        assert.equal(await waitHealth(false), false, 'an idle store noticed the hung redis');
      } finally { process.kill(redis.pid(), 'SIGCONT'); }
      assert.equal(await waitHealth(true), true, 'healthy again once redis answers');
    } finally { await store.close(); }
  });

  it('rejects writes within the command bound while redis is down, then recovers', async () => {
    const store = await RedisStore.open({ url: redis.url, keyPrefix: 't5:', commandTimeoutMs: 500 });
    try {
      await redis.kill9();
      const started = Date.now();
      await assert.rejects(store.put([lease(1)]), { code: 'store_unavailable' });
      assert.ok(Date.now() - started < 3000, 'failed within the bound');
      await redis.restart();
      const deadline = Date.now() + 10_000;
      while (!store.healthy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await store.put([lease(1)]);
      assert.equal((await store.loadAll()).length, 1);
    } finally { await store.close(); }
  });

  it('fails to open with a clear error when redis is unreachable', async () => {
    await assert.rejects(RedisStore.open({ url: 'redis://127.0.0.1:1', keyPrefix: 'x:' }), { code: 'store_unavailable' });
  });
});
