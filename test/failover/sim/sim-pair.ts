// An in-process failover pair on a fake clock, for reproducing chaos-test failures deterministically:
// two real DhcpEngine + FailoverPeer stacks, each on a DurableStore (a Redis stand-in that survives a
// "kill -9" of its server), talking real TCP on loopback through a Wire (a proxy that can be cut and
// healed like the lab's iptables DROP). Only the fake clock moves time; `Sim.advance` steps it and lets
// the sockets and promise chains run in between, so timers (startup, switchover, keepalive, sweep)
// fire in a reproducible order.
import net from 'node:net';
import type { Config, Scope } from '../../../src/config/schema.ts';
import { LIMITS_DEFAULTS } from '../../../src/config/defaults.ts';
import { DhcpEngine } from '../../../src/dhcp/engine.ts';
import { StoreError } from '../../../src/errors.ts';
import type { Decision } from '../../../src/dhcp/reply.ts';
import type { DhcpMessage } from '../../../src/dhcp/wire/message.ts';
import type { FailoverConfig } from '../../../src/config/failover.ts';
import { FailoverPeer } from '../../../src/failover/runtime/peer.ts';
import { deferredPolicy } from '../../../src/failover/rules/allocation-policy.ts';
import type { Lease } from '../../../src/leases/lease.ts';
import type { LeaseStore } from '../../../src/leases/store.ts';
import { parseCidr, parseIpv4, type Ipv4 } from '../../../src/net/ipv4.ts';
import { FakeClock } from '../../fakes/fake-clock.ts';
import { freePort } from '../../fakes/ports.ts';

// ------------------------------------------------------------------ durable store (Redis stand-in)

export type PutVerdict = 'ok' | 'hang';

/**
 * What survives a kill -9: every write that reached it. A server talks to it through a session; a
 * write is applied when it is issued (Redis has it) and acknowledged `latencyMs` of fake time later
 * (fsync). `crash()` ends the current session: its unacknowledged writes stay applied but never resolve,
 * and whatever the dead process still tries to write is dropped.
 */
export class DurableStore {
  readonly leases = new Map<Ipv4, Lease>();
  readonly meta = new Map<string, string>();
  latencyMs = 0;
  /** Redis is down (killed, not yet restarted): every command fails. */
  down = false;
  /** Test hook on every lease write of a live session: 'hang' = applied, acknowledgement never arrives. */
  onPut: ((leases: readonly Lease[]) => PutVerdict) | undefined;
  private generation = 0;
  private readonly clock: FakeClock;

  constructor(clock: FakeClock) { this.clock = clock; }

  crash(): void { this.generation++; }

  session(): LeaseStore {
    const gen = ++this.generation;
    const alive = (): boolean => gen === this.generation;
    const never = new Promise<never>(() => undefined);
    const ack = (): Promise<void> => {
      if (this.latencyMs <= 0) return Promise.resolve();
      return new Promise<void>((resolve) => { this.clock.setTimer(this.latencyMs, () => { if (alive()) resolve(); }); });
    };
    return {
      loadAll: async () => [...this.leases.values()].map((l) => ({ ...l })),
      put: (leases) => {
        if (!alive()) return never;
        if (this.down) return Promise.reject(new StoreError('store_unavailable', 'Redis is down (sim)'));
        for (const l of leases) this.leases.set(l.ip, { ...l });
        if (this.onPut?.(leases) === 'hang') return never;
        return ack();
      },
      remove: async (ips) => { if (alive()) for (const ip of ips) this.leases.delete(ip); },
      getMeta: async (key) => { if (this.down) throw new StoreError('store_unavailable', 'Redis is down (sim)'); return this.meta.get(key); },
      setMeta: (key, value) => {
        if (!alive()) return never;
        if (this.down) return Promise.reject(new StoreError('store_unavailable', 'Redis is down (sim)'));
        this.meta.set(key, value);
        return ack();
      },
      healthy: () => alive(),
      close: async () => undefined,
    };
  }
}

// ------------------------------------------------------------------ the wire between the servers

interface Pipe { a: net.Socket; b: net.Socket | undefined; toB: Buffer[]; toA: Buffer[]; aGone: boolean; bGone: boolean; target: number }

/**
 * A TCP proxy per direction. While cut, bytes and closes are held (as a DROP rule holds a TCP stream:
 * nothing arrives, and whatever was sent arrives after the heal); new connections wait for the heal.
 */
export class Wire {
  private cutNow = false;
  private readonly pipes = new Set<Pipe>();
  private readonly servers: net.Server[] = [];

  get isCut(): boolean { return this.cutNow; }

  /** A port that forwards to 127.0.0.1:`target`. */
  async forwardTo(target: number): Promise<number> {
    const server = net.createServer((a) => this.accept(a, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.servers.push(server);
    return (server.address() as net.AddressInfo).port;
  }

  cut(): void { this.cutNow = true; }

  heal(): void {
    this.cutNow = false;
    for (const p of [...this.pipes]) {
      if (p.b === undefined && !p.aGone) this.connect(p);
      this.flush(p);
    }
  }

  async close(): Promise<void> {
    for (const p of this.pipes) { p.a.destroy(); p.b?.destroy(); }
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private accept(a: net.Socket, target: number): void {
    const p: Pipe = { a, b: undefined, toB: [], toA: [], aGone: false, bGone: false, target };
    this.pipes.add(p);
    a.on('error', () => undefined);
    a.on('data', (d: Buffer) => { if (this.cutNow || p.b === undefined) p.toB.push(d); else p.b.write(d); });
    a.on('close', () => { p.aGone = true; this.flush(p); });
    if (!this.cutNow) this.connect(p);
  }

  private connect(p: Pipe): void {
    const b = net.connect({ host: '127.0.0.1', port: p.target });
    p.b = b;
    b.on('error', () => undefined);
    b.on('connect', () => this.flush(p));
    b.on('data', (d: Buffer) => { if (this.cutNow) p.toA.push(d); else p.a.write(d); });
    b.on('close', () => { p.bGone = true; this.flush(p); });
  }

  private flush(p: Pipe): void {
    if (this.cutNow) return;
    if (p.b !== undefined && !p.b.connecting && !p.bGone) for (const d of p.toB.splice(0)) p.b.write(d);
    if (!p.aGone) for (const d of p.toA.splice(0)) p.a.write(d);
    if (p.aGone && p.b !== undefined) p.b.destroy();
    if (p.bGone && !p.aGone) p.a.destroy();
    if (p.aGone && (p.bGone || p.b === undefined)) this.pipes.delete(p);
  }
}

// ------------------------------------------------------------------ one server process

export const SIM_SCOPE: Scope = {
  name: 'perf', subnet: parseCidr('10.100.0.0/20'),
  ranges: [{ start: parseIpv4('10.100.0.10'), end: parseIpv4('10.100.7.250') }],
  exclusions: [], reservations: [], options: new Map([[1, Buffer.from([255, 255, 240, 0])]]), leaseSeconds: 60, active: true,
};

export function simConfig(name: string, serverId: string, scope: Scope = SIM_SCOPE): Config {
  return {
    server: {
      name, serverId: parseIpv4(serverId), listen: { address: '127.0.0.1', port: 0, interfaces: [] },
      admin: { address: '127.0.0.1', port: 0 }, store: { type: 'memory' }, declineHoldSeconds: 600, offerHoldSeconds: 10,
      logLevel: 'error', limits: LIMITS_DEFAULTS,
    },
    scopes: [scope],
    allowEmptyScopes: false, relationships: [],
  };
}

/** The chaos run's failover settings (test/chaos/run.ts), ports filled in by Sim. */
export function chaosFailover(role: 'primary' | 'secondary', port: number, partnerPort: number): FailoverConfig {
  return {
    relationship: 'chaos', role, address: '127.0.0.1', port, partner: { address: '127.0.0.1', port: partnerPort },
    mode: 'load-balance', splitPercent: 50, reservePercent: 0, mcltSeconds: 15, stateSwitchoverSeconds: 5,
    maxUnackedUpdates: 10, maxResponseDelaySeconds: 3, loadBalanceMaxSeconds: 3, startupSeconds: 1,
    partnerDialect: 'self', sharedSecret: 'chaos-secret', sharedSecretFile: undefined,
  };
}

export class SimServer {
  readonly name: string;
  readonly store: DurableStore;
  engine: DhcpEngine | undefined;
  peer: FailoverPeer | undefined;
  /** The lease sweep (server-command.ts SWEEP_INTERVAL_MS): every this many ms from start; 0 = only when the test calls it. */
  sweepMs = 5000;
  private readonly clock: FakeClock;
  private readonly config: Config;
  private readonly failover: FailoverConfig;
  private sweepTimer: { cancel(): void } | undefined;

  constructor(o: { name: string; clock: FakeClock; config: Config; failover: FailoverConfig }) {
    this.name = o.name;
    this.clock = o.clock;
    this.config = o.config;
    this.failover = o.failover;
    this.store = new DurableStore(o.clock);
  }

  get alive(): boolean { return this.peer !== undefined; }
  get state(): string | undefined { return this.peer?.snapshot.state; }

  /** Starts a new process on the durable store (as server-command.ts does: load, peer, sweep). */
  async start(): Promise<void> {
    const store = this.store.session();
    const engine = new DhcpEngine({
      config: this.config, store, now: () => this.clock.now(), interfaceAddresses: () => new Map(),
      policy: deferredPolicy(() => this.peer!.policy),
      onCommit: (lease) => this.peer?.onCommit(lease),
      prepareCommit: (lease) => this.peer?.prepareCommit(lease) ?? lease,
    });
    await engine.loadLeases();
    const peer = new FailoverPeer({
      config: this.failover, serverName: this.name, engine, store, clock: this.clock,
      secret: Buffer.from(this.failover.sharedSecret ?? '', 'utf8'), backoffMs: { min: 1000, max: 10_000 },
    });
    this.engine = engine;
    this.peer = peer;
    await peer.start();
    const sweep = (): void => {
      if (this.sweepMs <= 0) return;
      this.sweepTimer = this.clock.setTimer(this.sweepMs, () => { void engine.sweepExpired().catch(() => undefined); sweep(); });
    };
    sweep();
  }

  /** kill -9: sockets die without a goodbye, timers stop, unacknowledged store writes never resolve. */
  kill(): void {
    const peer = this.peer;
    if (peer === undefined) return;
    this.store.crash();
    this.sweepTimer?.cancel();
    const transport = (peer as unknown as { transport?: { links: Set<{ socket: net.Socket }> } }).transport;
    for (const l of transport?.links ?? []) l.socket.destroy();
    (peer as unknown as { stopped: boolean }).stopped = true;
    void peer.stop();
    this.engine = undefined;
    this.peer = undefined;
  }

  /** One DHCP message through the relay; the reply (if any) once the engine resolves. */
  handle(msg: DhcpMessage): Promise<Decision> | undefined {
    return this.engine?.handle(msg);
  }
}

// ------------------------------------------------------------------ the pair and the clock

export async function settle(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export class Sim {
  readonly clock = new FakeClock(Date.UTC(2026, 0, 1, 13, 7, 0));
  readonly wire = new Wire();
  srv1!: SimServer;
  srv2!: SimServer;
  /** Called after every step (the fleet). */
  onStep: (() => void) | undefined;
  readonly stepMs: number;

  constructor(o: { stepMs?: number } = {}) { this.stepMs = o.stepMs ?? 50; }

  async setup(over: (f: FailoverConfig) => FailoverConfig = (f) => f): Promise<void> {
    const p1 = await freePort(), p2 = await freePort();
    const to1 = await this.wire.forwardTo(p1), to2 = await this.wire.forwardTo(p2);
    this.srv1 = new SimServer({ name: 'srv1', clock: this.clock, config: simConfig('srv1', '10.99.0.2'), failover: over(chaosFailover('primary', p1, to2)) });
    this.srv2 = new SimServer({ name: 'srv2', clock: this.clock, config: simConfig('srv2', '10.99.0.3'), failover: over(chaosFailover('secondary', p2, to1)) });
  }

  get servers(): SimServer[] { return [this.srv1, this.srv2]; }

  /** Awaits `p` while fake time moves on in steps (store acknowledgements and timers need the clock). */
  async run<T>(p: Promise<T>, maxMs = 30_000): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    p.then((v) => { done = true; value = v; }, (e: unknown) => { done = true; error = e; });
    await settle();
    for (let t = 0; !done && t < maxMs; t += this.stepMs) await this.step();
    if (!done) throw new Error('sim: timed out');
    if (error !== undefined) throw error;
    return value as T;
  }

  async step(): Promise<void> {
    this.clock.advance(this.stepMs);
    await settle();
    this.onStep?.();
    await settle();
  }

  async advance(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += this.stepMs) await this.step();
  }

  /** Steps until `test()` holds (or fails after maxMs of fake time). */
  async until(what: string, test: () => boolean, maxMs = 30_000): Promise<void> {
    for (let t = 0; !test(); t += this.stepMs) {
      if (t >= maxMs) throw new Error(`sim: timed out waiting for ${what} (srv1 ${this.srv1.state}, srv2 ${this.srv2.state})`);
      await this.step();
    }
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.kill();
    await this.wire.close();
  }
}

