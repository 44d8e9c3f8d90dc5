// A rotated Kubernetes Secret on a running pair: two real FailoverPeers over loopback TCP, each reading
// its shared secret from a file laid out like a Secret volume (`secret -> ..data/secret`, `..data ->
// ..<timestamp>`) and watching it as the server does (config/watch.ts watchFile → peer.reconfigure).
// The kubelets swap the two volumes seconds apart: the link never drops, the pair stays NORMAL,
// bindings cross in both directions throughout, and both end on the new secret. With only one side
// rotated the old secret works until the grace period ends, and is refused after it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import client from 'prom-client';
import { systemClock } from '../../../src/clock.ts';
import type { Scope } from '../../../src/config/schema.ts';
import { watchFile, type ConfigWatcher } from '../../../src/config/watch.ts';
import { planScope } from '../../../src/dhcp/pool.ts';
import type { FailoverConfig } from '../../../src/config/failover.ts';
import type { EngineSurface } from '../../../src/failover/runtime/engine-surface.ts';
import { FailoverPeer } from '../../../src/failover/runtime/peer.ts';
import { LeaseIndex } from '../../../src/leases/lease-index.ts';
import type { Lease } from '../../../src/leases/lease.ts';
import { setLogSink } from '../../../src/log.ts';
import { createFailoverMetrics, type FailoverMetrics } from '../../../src/metrics/registry.ts';
import { parseCidr, parseIpv4 } from '../../../src/net/ipv4.ts';
import { freePort } from '../../fakes/ports.ts';
import { sleep, until as untilWithin } from '../../fakes/wait.ts';
import { RecordingStore } from '../../fakes/recording-store.ts';
import { FakeEngine } from '../../fakes/peer-engine.ts';

const logs: { event: string; [k: string]: unknown }[] = [];
setLogSink((line) => { try { logs.push(JSON.parse(line) as { event: string }); } catch { /* ignore */ } });


const root = mkdtempSync(join(tmpdir(), 'fo-secret-'));
let volumes = 0;
/** A Secret volume as the kubelet lays it out; `swap` replaces the value the way the kubelet does (atomic `..data` rename). */
function secretVolume(value: string): { path: string; swap(value: string): void } {
  const dir = join(root, `vol${volumes++}`);
  mkdirSync(dir);
  let gen = 0;
  const write = (v: string): void => {
    const ts = `..2024_01_01_00_00_0${gen++}`;
    mkdirSync(join(dir, ts));
    writeFileSync(join(dir, ts, 'secret'), `${v}\n`);
    symlinkSync(ts, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  write(value);
  symlinkSync('..data/secret', join(dir, 'secret'));
  return { path: join(dir, 'secret'), swap: write };
}
const readSecret = (path: string): Buffer => Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');

const running: { peer: FailoverPeer; watcher: ConfigWatcher }[] = [];
after(async () => {
  for (const r of running) { r.watcher.close(); await r.peer.stop().catch(() => undefined); }
  rmSync(root, { recursive: true, force: true });
});

async function pairConfigs(files: [string, string]): Promise<[FailoverConfig, FailoverConfig]> {
  const pp = await freePort(), sp = await freePort();
  const common = {
    relationship: 'lab', mode: 'load-balance' as const, splitPercent: 50, reservePercent: 0, mcltSeconds: 60, stateSwitchoverSeconds: undefined,
    maxUnackedUpdates: 5, maxResponseDelaySeconds: 3, partnerDialect: 'self' as const, loadBalanceMaxSeconds: 3, startupSeconds: 1, sharedSecret: undefined,
  };
  return [
    { ...common, role: 'primary', address: '127.0.0.1', port: pp, partner: { address: '127.0.0.1', port: sp }, sharedSecretFile: files[0] },
    { ...common, role: 'secondary', address: '127.0.0.1', port: sp, partner: { address: '127.0.0.1', port: pp }, sharedSecretFile: files[1] },
  ];
}

/** A server's failover half: the peer, and the secret file watcher server-command.ts runs. */
function server(config: FailoverConfig, secretGraceMs?: number): { peer: FailoverPeer; engine: FakeEngine; metrics: FailoverMetrics; applied: () => number } {
  const store = new RecordingStore();
  const engine = new FakeEngine(store);
  const metrics = createFailoverMetrics(new client.Registry());
  const peer = new FailoverPeer({
    config, serverName: config.role, engine, store, clock: systemClock, metrics, backoffMs: { min: 50, max: 300 },
    secret: readSecret(config.sharedSecretFile!), ...(secretGraceMs !== undefined ? { secretGraceMs } : {}),
  });
  let applied = 0;
  const watcher = watchFile(config.sharedSecretFile!, {
    debounceMs: 50, pollMs: 500,
    onChange: () => { void peer.reconfigure(peer.config, readSecret(config.sharedSecretFile!)).then(() => { applied++; }); },
  });
  running.push({ peer, watcher });
  return { peer, engine, metrics, applied: () => applied };
}

const until = (what: string, test: () => boolean, ms = 10_000): Promise<void> => untilWithin(what, test, ms);
const gauge = async (m: FailoverMetrics, g: 'previousSecretInUse' | 'connectionUp'): Promise<number> => (await m[g].get()).values[0]?.value ?? -1;
const counter = async (m: FailoverMetrics): Promise<number> => (await m.authFailures.get()).values.reduce((a, v) => a + v.value, 0);

let nextIp = 120;
function lease(): Lease {
  const now = Date.now(), n = nextIp++;
  return { ip: parseIpv4(`10.0.0.${n}`), scope: 'lab', state: 'active', hw: `1:0a0b0c0d0e${n.toString(16).padStart(2, '0')}`, expiresAt: now + 60_000, cltt: now };
}
/** A lease committed on `from` reaches `to` and is acked: the link carries bindings under whatever secret it uses now. */
async function crosses(from: ReturnType<typeof server>, to: ReturnType<typeof server>, what: string): Promise<void> {
  const l = lease();
  await from.engine.commit(l, from.peer);
  await until(`${what}: binding reaches the partner and is acked`, () => to.engine.leases.get(l.ip)?.state === 'active' && from.engine.leases.get(l.ip)?.pendingAck === false);
}

describe('a rotated Secret on a running pair (secret files swapped on each side at different moments)', () => {
  it('the primary\'s volume is swapped, the secondary\'s 3 s later: the link never drops, no COMMUNICATIONS-INTERRUPTED, and both end on the new secret', async () => {
    const va = secretVolume('first-secret-value-0123456789abcdef'), vb = secretVolume('first-secret-value-0123456789abcdef');
    const [pc, sc] = await pairConfigs([va.path, vb.path]);
    const a = server(pc), b = server(sc);
    await a.peer.start(); await b.peer.start();
    await until('both NORMAL', () => a.peer.snapshot.state === 'normal' && b.peer.snapshot.state === 'normal');
    assert.deepEqual(a.peer.status().secret, { link: 'current', previousAcceptedUntil: null });
    await crosses(a, b, 'before');

    // From here on, any state other than NORMAL on either side, or a lost link, fails the test.
    const mark = logs.length;
    const seen = new Set<string>();
    const watch = setInterval(() => { seen.add(a.peer.snapshot.state); seen.add(b.peer.snapshot.state); }, 5);

    va.swap('second-secret-value-fedcba9876543210');
    await until('the primary applied the new secret', () => a.applied() === 1);
    assert.ok(a.peer.status().secret?.previousAcceptedUntil, 'the primary keeps the previous secret for the grace period');
    await sleep(3000); // keepalives cross under the old secret; the secondary still has only the old one
    assert.equal(a.peer.status().secret?.link, 'previous');
    a.peer.collectMetrics();
    assert.equal(await gauge(a.metrics, 'previousSecretInUse'), 1, 'the gauge shows the rotation in progress');
    await crosses(a, b, 'primary rotated, secondary not yet');
    await crosses(b, a, 'secondary → primary, under the old secret');

    vb.swap('second-secret-value-fedcba9876543210');
    await until('both on the new secret', () => a.peer.status().secret?.link === 'current' && b.peer.status().secret?.link === 'current');
    await crosses(a, b, 'both rotated');
    await crosses(b, a, 'both rotated, other way');
    await sleep(1500); // keepalives under the new secret
    clearInterval(watch);

    assert.deepEqual([...seen], ['normal'], 'both stayed NORMAL throughout');
    const events = logs.slice(mark).map((l) => l.event);
    assert.ok(!events.includes('failover.link.lost'), 'the link was never lost');
    assert.ok(!events.includes('failover.link.established'), 'no new link was needed');
    assert.ok(!events.includes('failover.link.auth_failed'), 'nothing refused');
    assert.ok(events.includes('failover.secret.previous_accepted'));
    assert.equal(await counter(a.metrics) + await counter(b.metrics), 0, 'no auth failure counted');
    a.peer.collectMetrics(); b.peer.collectMetrics();
    assert.equal(await gauge(a.metrics, 'previousSecretInUse'), 0);
    assert.equal(await gauge(b.metrics, 'previousSecretInUse'), 0);
    assert.equal(await gauge(a.metrics, 'connectionUp'), 1);
    assert.equal(a.peer.status().connection.up, true);
    await a.peer.stop(); await b.peer.stop();
  });

  it('only the secondary\'s volume is swapped: the old secret works for the grace period, then is refused: the link closes, the pair goes COMMUNICATIONS-INTERRUPTED, failures are counted', async () => {
    const va = secretVolume('old-secret-aaaaaaaaaaaaaaaa'), vb = secretVolume('old-secret-aaaaaaaaaaaaaaaa');
    const [pc, sc] = await pairConfigs([va.path, vb.path]);
    const GRACE = 2500;
    const a = server(pc), b = server(sc, GRACE);
    await a.peer.start(); await b.peer.start();
    await until('both NORMAL', () => a.peer.snapshot.state === 'normal' && b.peer.snapshot.state === 'normal');
    const mark = logs.length;
    vb.swap('new-secret-bbbbbbbbbbbbbbbb');
    await until('the secondary applied the new secret', () => b.applied() === 1);
    await crosses(a, b, 'inside the grace period');
    assert.equal(a.peer.snapshot.state, 'normal');
    assert.equal(b.peer.status().secret?.link, 'previous');
    await until('the grace period ended: link closed, both COMMUNICATIONS-INTERRUPTED', () =>
      a.peer.snapshot.state === 'communications-interrupted' && b.peer.snapshot.state === 'communications-interrupted', GRACE + 8000);
    assert.ok(logs.slice(mark).some((l) => l.event === 'failover.secret.link_expired'));
    // The primary (old secret only) keeps dialling: every CONNECT it signs with the old secret is refused and counted.
    const before = await counter(b.metrics);
    await until('CONNECTs under the old secret refused', () => logs.slice(mark).some((l) => l.event === 'failover.link.auth_failed' && l.type === 'CONNECT'), 5000);
    await sleep(500);
    assert.ok(await counter(b.metrics) > 0 && await counter(b.metrics) >= before);
    assert.equal(b.peer.status().secret?.previousAcceptedUntil, null, 'the previous secret is forgotten');
    assert.equal(b.peer.status().connection.up, false);
    // Giving the primary the new secret brings the pair back.
    va.swap('new-secret-bbbbbbbbbbbbbbbb');
    await until('NORMAL again on the new secret', () => a.peer.snapshot.state === 'normal' && b.peer.snapshot.state === 'normal' && a.peer.status().secret?.link === 'current', 15_000);
    await a.peer.stop(); await b.peer.stop();
  });
});
