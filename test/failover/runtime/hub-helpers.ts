// Shared helpers for the tests of a server in several relationships (relationships*.test.ts): a hub's
// raw config, FailoverRelationships over a FakeEngine, leases and requests, and loopback socket probes.
import net from 'node:net';
import type { Clock } from '../../../src/clock.ts';
import type { Config } from '../../../src/config/schema.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import { planScope } from '../../../src/dhcp/pool.ts';
import { MessageType } from '../../../src/dhcp/wire/message.ts';
import { FailoverRelationships } from '../../../src/failover/runtime/relationships.ts';
import { FrameReader } from '../../../src/failover/wire/framing.ts';
import { decodeFailoverMessage } from '../../../src/failover/wire/message.ts';
import type { Lease } from '../../../src/leases/lease.ts';
import { ip, makeRequest } from '../../fakes/dhcp-builders.ts';
import { FakeClock } from '../../fakes/fake-clock.ts';
import { FakeEngine } from '../../fakes/peer-engine.ts';
import { RecordingStore } from '../../fakes/recording-store.ts';

/** The hub's own failover address; its partners are other loopback addresses (Linux routes 127/8 to lo). */
export const HOST = '127.0.0.1';
export const NOW = Date.UTC(2026, 0, 1);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw config fixtures are poked at arbitrary paths
export type Raw = Record<string, any>;

/** A relationship of the hub with the partner at 127.0.0.<octet> (nobody answers there). */
export const relationship = (name: string, octet: number, port: number, over: Raw = {}): Raw => ({
  relationship: name, role: 'secondary', address: HOST, port, partner: { address: `127.0.0.${octet}`, port: 9 },
  mode: 'hot-standby', startupSeconds: 60, ...over,
});

/** Scope `name` on 10.<octet>.0.0/24, served by `rel` (or `none`). */
export const scope = (name: string, octet: number, rel: string): Raw => ({
  name, relationship: rel, subnet: `10.${octet}.0.0/24`, ranges: [{ start: `10.${octet}.0.10`, end: `10.${octet}.0.20` }],
});

/** The hub: relationships b1 (partner 127.0.0.2) and b2 (127.0.0.3) on one listener; scopes b1, b2 and the standalone lab. */
export function hub(port: number): Raw {
  return {
    server: { name: 'hub', listen: { address: HOST } },
    failover: [relationship('b1', 2, port), relationship('b2', 3, port)],
    scopes: [scope('b1', 1, 'b1'), scope('b2', 2, 'b2'), scope('lab', 3, 'none')],
  };
}

/**
 * FailoverRelationships over a FakeEngine (seeded with `leases`), started unless told not to: each peer in
 * STARTUP (startupSeconds 60; a FakeClock never fires it, nor dials). `running` collects them for an after().
 * `policy` reads the plans set by `setPlans` (the engine's scopePlans after a reload).
 */
export async function hubOf(running: FailoverRelationships[], raw: Raw, opts: { clock?: Clock; start?: boolean; leases?: Lease[] } = {}) {
  const config = validateConfig(raw);
  const store = new RecordingStore();
  const engine = new FakeEngine(store);
  for (const l of opts.leases ?? []) engine.leases.set(l);
  const clock = opts.clock ?? new FakeClock(NOW);
  const rels = new FailoverRelationships({ config, serverName: 'hub', engine, store, clock, secretOf: () => undefined });
  running.push(rels);
  if (opts.start !== false) await rels.start();
  let plans = config.scopes.map(planScope);
  const policy = rels.policy(() => plans);
  return { config, rels, engine, store, clock, policy, setPlans: (c: Config) => { plans = c.scopes.map(planScope); } };
}

export function lease(address: string, scopeName: string, over: Partial<Lease> = {}): Lease {
  return { ip: ip(address), scope: scopeName, state: 'active', hw: `1:02000000${ip(address).toString(16).slice(-4)}`, expiresAt: NOW + 3_600_000, cltt: NOW, ...over };
}

/** A DISCOVER placed in `scopeName`, as the engine asks mayAnswer about it. */
export const discover = (scopeName: string) => ({ type: MessageType.DISCOVER, msg: makeRequest({ type: MessageType.DISCOVER }), clientKey: 'hw:1:020000000001', scope: scopeName });

/** Updates `name`'s peer has queued for its partner. */
export const queued = (rels: FailoverRelationships, name: string): number => rels.peers.get(name)!.status().updates.queued;

/** Records `lease` as the engine does on an ACK: prepared, indexed, reported; waits for every peer's work. */
export async function commit(rels: FailoverRelationships, engine: FakeEngine, l: Lease): Promise<Lease> {
  const prepared = rels.prepareCommit(l);
  engine.leases.set(prepared);
  rels.onCommit(prepared);
  for (const p of rels.peers.values()) await p.idle();
  return prepared;
}

/**
 * Connects to HOST:port from `localAddress`: `CONNECT <relationship>` when the hub's side (a primary) greets
 * it, `closed` when the hub closes it, `silent` when nothing happens within 2 s.
 */
export function firstMessage(localAddress: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port, localAddress });
    const reader = new FrameReader();
    let settled = false;
    const done = (r: string): void => { if (!settled) { settled = true; resolve(r); } s.destroy(); };
    s.on('data', (d: Buffer) => {
      const f = reader.push(d)[0];
      if (f === undefined) return;
      const m = decodeFailoverMessage(f);
      done(m.type === 'CONNECT' ? `CONNECT ${m.relationshipName}` : m.type);
    });
    s.on('error', () => undefined);
    s.on('close', () => done('closed'));
    s.setTimeout(2000, () => done('silent'));
  });
}

/** True when nobody listens on HOST:port (bound and released again). */
export async function canBind(port: number): Promise<boolean> {
  const srv = net.createServer();
  const bound = await new Promise<boolean>((resolve) => { srv.once('error', () => resolve(false)); srv.listen(port, HOST, () => resolve(true)); });
  if (bound) await new Promise<void>((r) => srv.close(() => r()));
  return bound;
}

/** Holds HOST:port until `close`. */
export async function blockPort(port: number): Promise<{ close(): Promise<void> }> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(port, HOST, () => r()));
  return { close: () => new Promise<void>((r) => srv.close(() => r())) };
}
