// Harness for hostile-peer tests: a real server-side failover endpoint (FailoverPeer, secondary, with a
// shared secret) on loopback, and a raw TCP "partner" whose every byte the test controls.
// Addresses: the endpoint listens on 127.0.0.32, the configured partner is 127.0.0.31, and 127.0.0.33 is
// a stranger. Ports are derived from process.pid. Every wait is bounded in time.
import net from 'node:net';
import client from 'prom-client';
import { systemClock, type Clock } from '../../src/clock.ts';
import type { Scope } from '../../src/config/schema.ts';
import { planScope } from '../../src/dhcp/pool.ts';
import type { FailoverConfig } from '../../src/config/failover.ts';
import { VENDOR_CLASS } from '../../src/failover/link/handshake.ts';
import type { EngineSurface } from '../../src/failover/runtime/engine-surface.ts';
import { FailoverPeer } from '../../src/failover/runtime/peer.ts';
import { metaKey } from '../../src/failover/runtime/state-record.ts';
import { newNonce, nonceOf, nonceOptions, sessionKey } from '../../src/failover/link/session-key.ts';
import { FrameReader } from '../../src/failover/wire/framing.ts';
import { decodeFailoverMessage, encodeFailoverMessage, type FailoverMessage } from '../../src/failover/wire/message.ts';
import { LeaseIndex } from '../../src/leases/lease-index.ts';
import type { Lease } from '../../src/leases/lease.ts';
import { setLogLevel, setLogSink } from '../../src/log.ts';
import { createFailoverMetrics, type FailoverMetrics } from '../../src/metrics/registry.ts';
import { parseCidr, parseIpv4 } from '../../src/net/ipv4.ts';
import { RecordingStore } from './recording-store.ts';
import { sleep, until } from './wait.ts';

export const ENDPOINT_ADDRESS = '127.0.0.32';
export const PARTNER_ADDRESS = '127.0.0.31';
export const STRANGER_ADDRESS = '127.0.0.33';
export const SECRET = Buffer.from('hostile-peer-test-secret');
export const RELATIONSHIP = 'hostile';

let nextPort = 41_000 + (process.pid % 2_000) * 8;
export function freshPort(): number { return nextPort++; }

export const scope: Scope = {
  name: RELATIONSHIP, subnet: parseCidr('10.9.0.0/24'), ranges: [{ start: parseIpv4('10.9.0.100'), end: parseIpv4('10.9.0.199') }],
  exclusions: [], reservations: [], options: new Map(), leaseSeconds: 3600, active: true,
};

/** The engine surface FailoverPeer needs; remote updates go to the index and the store. */
export class FakeEngine implements EngineSurface {
  readonly leases = new LeaseIndex();
  readonly scopePlans = [planScope(scope)];
  readonly store: RecordingStore;
  constructor(store: RecordingStore) { this.store = store; }
  async applyRemote(leases: readonly Lease[]): Promise<void> { for (const l of leases) this.leases.set(l); await this.store.put(leases); }
}

// ------------------------------------------------------------------ log capture

export interface LogLine { level: string; event: string; [k: string]: unknown }
const MAX_LOG_LINES = 20_000;
export const logLines: LogLine[] = [];
let logCaptured = false;
/** Captures every JSON log line (debug included) into `logLines` (bounded, oldest dropped). */
export function captureLogs(): void {
  if (logCaptured) return;
  logCaptured = true;
  setLogLevel('debug');
  setLogSink((line) => {
    try { logLines.push(JSON.parse(line) as LogLine); } catch { /* not JSON: ignore */ }
    if (logLines.length > MAX_LOG_LINES) logLines.splice(0, logLines.length - MAX_LOG_LINES);
  });
}
export function logsSince(mark: number): LogLine[] { return logLines.slice(mark); }
export function logMark(): number { return logLines.length; }

// ------------------------------------------------------------------ waiting

export { sleep, until };

// ------------------------------------------------------------------ the endpoint

/** A clock we can shift (replay tests): now() = Date.now() + offsetMs; timers are real. */
export class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number { return Date.now() + this.offsetMs; }
  setTimer(ms: number, fn: () => void): { cancel(): void } { return systemClock.setTimer(ms, fn); }
}

export interface Endpoint {
  peer: FailoverPeer;
  engine: FakeEngine;
  store: RecordingStore;
  metrics: FailoverMetrics;
  registry: client.Registry;
  config: FailoverConfig;
  clock: OffsetClock;
  /** The endpoint's failover port on ENDPOINT_ADDRESS. */
  port: number;
}

export const PROTECTED_LEASE: Lease = {
  ip: parseIpv4('10.9.0.150'), scope: RELATIONSHIP, state: 'active', hw: '1:aabbccddee01', clientId: '01aabbccddee01',
  expiresAt: Date.now() + 3_600_000, cltt: Date.now() - 60_000,
};

/**
 * Starts a secondary with the shared secret, a persisted NORMAL record (so it boots to STARTUP and then
 * COMMUNICATIONS-INTERRUPTED, a state a hostile message must not move) and one active lease.
 */
export async function startEndpoint(over: Partial<FailoverConfig> = {}): Promise<Endpoint> {
  const port = freshPort();
  const store = new RecordingStore([PROTECTED_LEASE]);
  await store.setMeta(metaKey(RELATIONSHIP), JSON.stringify({ state: 'normal', stos: Date.now() - 10_000, mcltSeconds: 60 }));
  const engine = new FakeEngine(store);
  engine.leases.set(PROTECTED_LEASE);
  const registry = new client.Registry();
  const metrics = createFailoverMetrics(registry);
  const config: FailoverConfig = {
    relationship: RELATIONSHIP, role: 'secondary', address: ENDPOINT_ADDRESS, port,
    // Nothing listens there: the endpoint's own dials fail and back off; only our raw sockets reach it.
    partner: { address: PARTNER_ADDRESS, port: freshPort() },
    mode: 'load-balance', splitPercent: 50, reservePercent: 0, mcltSeconds: 60, stateSwitchoverSeconds: undefined,
    maxUnackedUpdates: 5, maxResponseDelaySeconds: 3, partnerDialect: 'self', loadBalanceMaxSeconds: 3, startupSeconds: 1,
    sharedSecret: undefined, sharedSecretFile: undefined, ...over,
  };
  const clock = new OffsetClock();
  const peer = new FailoverPeer({ config, serverName: 'secondary', engine, store, clock, metrics, secret: SECRET, backoffMs: { min: 200, max: 1000 } });
  await peer.start();
  await until('endpoint in COMMUNICATIONS-INTERRUPTED', () => peer.snapshot.state === 'communications-interrupted', 5000);
  await peer.idle();
  return { peer, engine, store, metrics, registry, config, clock, port };
}

/** What must not move: state, stos, persisted record, every lease, the number of store writes that carry a lease (an empty batch write is not a change). */
export interface Fingerprint { state: string; stos: number; meta: string | undefined; leases: string; writes: number }
export function fingerprint(e: Endpoint): Fingerprint {
  const leases = [...e.engine.leases.values()].map((l) => JSON.stringify(l)).sort().join('\n');
  return { state: e.peer.snapshot.state, stos: e.peer.snapshot.stos, meta: e.store.meta.get(metaKey(RELATIONSHIP)), leases, writes: e.store.writes.filter((w) => w.length > 0).length };
}

/** Sum of a counter's values whose labels include `labels`. */
export async function counter(e: Endpoint, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = e.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const data = await metric.get();
  let sum = 0;
  for (const v of data.values) {
    if (Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)) sum += v.value;
  }
  return sum;
}

/** All link-error counts by kind. */
export async function linkErrors(e: Endpoint): Promise<Record<string, number>> {
  const data = await e.metrics.linkErrors.get();
  const out: Record<string, number> = {};
  for (const v of data.values) out[String(v.labels.kind)] = (out[String(v.labels.kind)] ?? 0) + v.value;
  return out;
}

/** Inbound + outbound links the transport holds right now (private field, read for the bound check). */
export function linkCount(e: Endpoint): number {
  const t = (e.peer as unknown as { transport?: { links?: Set<unknown> } }).transport;
  return t?.links?.size ?? -1;
}

// ------------------------------------------------------------------ the raw partner

export type Msg = FailoverMessage;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Body = DistributiveOmit<FailoverMessage, 'time' | 'xid' | 'skipped'>;

export function nowSeconds(): number { return Math.floor(Date.now() / 1000); }

/** A correctly built message; signed with SECRET (or `secret`, e.g. a session key) unless `secret: null`. */
export function build(body: Body, xid: number, opts: { secret?: Buffer | null; time?: number } = {}): Buffer {
  const m = { ...body, time: opts.time ?? nowSeconds(), xid } as FailoverMessage;
  const secret = opts.secret === null ? undefined : (opts.secret ?? SECRET);
  return encodeFailoverMessage(m, { dialect: 'isc', secret });
}

/** A CONNECT as one of our servers sends it: our vendor class and a session nonce (session-key.ts), unless `nonce: null`. */
export function connectBody(nonce: Buffer | null = newNonce()): Body {
  return {
    type: 'CONNECT', relationshipName: RELATIONSHIP, maxUnackedBndupd: 5, receiveTimer: 3600, vendorClassIdentifier: VENDOR_CLASS,
    protocolVersion: 1, tlsRequest: 0, mclt: 60, hba: Buffer.alloc(32, 0xaa), ...(nonce === null ? {} : { vendorOptions: nonceOptions(nonce) }),
  } as Body;
}

/** One raw TCP connection to the endpoint; collects every byte and decodes what frames it can. */
export class RawPartner {
  readonly socket: net.Socket;
  readonly received: Buffer[] = [];
  closed = false;
  error: Error | undefined;
  connected = false;
  closedAt = 0;

  constructor(port: number, localAddress = PARTNER_ADDRESS) {
    this.socket = net.connect({ host: ENDPOINT_ADDRESS, port, localAddress });
    this.socket.on('connect', () => { this.connected = true; });
    this.socket.on('data', (d: Buffer) => { if (this.bytesReceived() < 1_000_000) this.received.push(d); });
    this.socket.on('error', (err) => { this.error = err; });
    this.socket.on('close', () => { this.closed = true; this.closedAt = Date.now(); });
  }

  static async open(port: number, localAddress = PARTNER_ADDRESS, ms = 3000): Promise<RawPartner> {
    const p = new RawPartner(port, localAddress);
    await until('raw connect', () => p.connected || p.closed, ms);
    if (!p.connected) throw new Error(`raw connect failed: ${p.error?.message ?? 'closed'}`);
    return p;
  }

  bytesReceived(): number { return this.received.reduce((n, b) => n + b.length, 0); }

  /** Frames received so far, decoded (undecodable ones are skipped). */
  messages(): Msg[] {
    let frames: Buffer[] = [];
    try { frames = new FrameReader().push(Buffer.concat(this.received)); } catch { return []; }
    const out: Msg[] = [];
    for (const f of frames) { try { out.push(decodeFailoverMessage(f)); } catch { /* skip */ } }
    return out;
  }

  write(bytes: Buffer): boolean { if (this.closed || this.socket.destroyed) return false; return this.socket.write(bytes); }

  async waitFor(type: Msg['type'], ms = 3000): Promise<Msg> {
    let found: Msg | undefined;
    await until(`${type} from the endpoint`, () => (found = this.messages().find((m) => m.type === type)) !== undefined || this.closed, ms);
    found ??= this.messages().find((m) => m.type === type);
    if (found === undefined) throw new Error(`connection closed before ${type}; got ${this.messages().map((m) => m.type).join(',')}`);
    return found;
  }

  async waitClosed(ms = 3000): Promise<void> { await until('the endpoint closes the connection', () => this.closed, ms); }

  destroy(): void { this.socket.destroy(); }
}

/** A raw link that completed the handshake: `key` signs everything after the CONNECT; `xid` is the next request xid. */
export interface Session { p: RawPartner; key: Buffer; xid: number; connect: Buffer; connectack: Msg }

/**
 * The partner's side of the handshake: signed CONNECT with a fresh nonce, an accepting CONNECTACK, this
 * link's key from both nonces. With `confirm`, a CONTACT under the key (the endpoint establishes the link
 * only on the first message under it). Throws if the CONNECT is refused.
 */
export async function openSession(e: Endpoint, opts: { confirm?: boolean; ms?: number } = {}): Promise<Session> {
  const ms = opts.ms ?? 3000;
  const p = await RawPartner.open(e.port, PARTNER_ADDRESS, ms);
  const nonce = newNonce();
  const connect = build(connectBody(nonce), 1);
  p.write(connect);
  const connectack = await p.waitFor('CONNECTACK', ms);
  if (connectack.type !== 'CONNECTACK' || connectack.rejectReason !== undefined) { p.destroy(); throw new Error(`CONNECT refused: ${JSON.stringify(connectack)}`); }
  const theirs = nonceOf(connectack, VENDOR_CLASS);
  if (theirs === undefined) { p.destroy(); throw new Error('CONNECTACK without a session nonce'); }
  const key = sessionKey(SECRET, nonce, theirs);
  let xid = 2;
  if (opts.confirm === true) p.write(build({ type: 'CONTACT' } as Body, xid++, { secret: key }));
  return { p, key, xid, connect, connectack };
}

/**
 * A legitimate partner: signed CONNECT, expects an accepting CONNECTACK and the endpoint's link up.
 * Leaves without sending STATE (communications never become "OK", so the endpoint's state is untouched).
 */
export async function goodPartnerConnects(e: Endpoint, ms = 3000): Promise<{ connectack: Msg; elapsedMs: number }> {
  const t0 = Date.now();
  const { p, key, xid, connectack } = await openSession(e, { confirm: true, ms });
  try {
    await until('endpoint link established', () => e.peer.status().connection.linkEstablished, ms);
    const elapsedMs = Date.now() - t0;
    p.write(build({ type: 'DISCONNECT', rejectReason: 6, message: 'test done' } as Body, xid, { secret: key }));
    await until('endpoint link gone', () => !e.peer.status().connection.linkEstablished, ms);
    return { connectack, elapsedMs };
  } finally {
    p.destroy();
  }
}

/** Deterministic bytes (xorshift32) for garbage streams. */
export function pseudoRandomBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b[i] = x & 0xff; }
  return b;
}
