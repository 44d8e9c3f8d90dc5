// The UDP edge: receive, admit (rate limits, bounded queue: admission.ts), decode, let the engine
// decide, encode, send; count everything, crash on nothing.
import dgram from 'node:dgram';
import { BindError, DecodeError } from '../errors.ts';
import { log } from '../log.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import { formatIpv4 } from '../net/ipv4.ts';
import { LIMITS_DEFAULTS } from '../config/defaults.ts';
import type { LimitsConfig } from '../config/schema.ts';
import { BoundedQueue, TokenBuckets, type TakeResult } from './admission.ts';
import type { DhcpEngine } from './engine.ts';
import { clientKeyOfMessage } from './reply.ts';
import { MESSAGE_TYPE_NAMES, type DhcpMessage } from './wire/message.ts';
import { getMaxMessageSize, getMessageType } from './wire/message-options.ts';
import { decodeMessage, encodeMessage } from './wire/packet.ts';

export interface UdpServerOptions {
  readonly engine: DhcpEngine;
  readonly metrics: ServerMetrics;
  readonly address: string;
  readonly port: number;
  readonly limits?: LimitsConfig;
  readonly now?: () => number;
}

interface Pending { readonly buf: Buffer; readonly rinfo: dgram.RemoteInfo; readonly at: number }

const DEFAULT_MAX_MESSAGE = 576;

export class DhcpUdpServer {
  // No SO_REUSEADDR: with it a second server on the same address and port bound silently and both
  // answered the same clients from separate lease stores; now the second one fails with a BindError.
  private readonly socket = dgram.createSocket({ type: 'udp4' });
  private readonly options: UdpServerOptions;
  private bound = false;
  private limits: LimitsConfig = LIMITS_DEFAULTS;
  private clientBuckets = new TokenBuckets({ ratePerSecond: 0, burst: 0 });
  private relayBuckets = new TokenBuckets({ ratePerSecond: 0, burst: 0 });
  private queue = new BoundedQueue<Pending>(1);
  private inFlight = 0;
  private lastShedLog = 0;
  private readonly now: () => number;

  constructor(options: UdpServerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.setLimits(options.limits ?? LIMITS_DEFAULTS);
    options.metrics.pendingSource.read = () => ({ inFlight: this.inFlight, queued: this.queue.size });
    this.socket.on('message', (buf, rinfo) => this.admit({ buf, rinfo, at: this.now() }));
  }

  /** New limits (config reload): buckets start full again; waiting packets are kept. */
  setLimits(limits: LimitsConfig): void {
    this.limits = limits;
    this.clientBuckets = new TokenBuckets({ ratePerSecond: limits.clientRatePerSecond, burst: limits.clientBurst });
    this.relayBuckets = new TokenBuckets({ ratePerSecond: limits.relayRatePerSecond, burst: limits.relayBurst });
    const waiting: Pending[] = [];
    for (let p = this.queue.shift(); p !== undefined; p = this.queue.shift()) waiting.push(p);
    this.queue = new BoundedQueue<Pending>(limits.maxQueue);
    for (const p of waiting) this.queue.push(p);
  }

  /** A packet arrived: handle it now, or queue it; a full queue sheds its oldest packet. */
  private admit(p: Pending): void {
    if (this.inFlight < this.limits.maxInFlight) { this.run(p); return; }
    if (this.queue.push(p) !== undefined) this.shed('overload_shed');
  }

  private run(p: Pending): void {
    this.inFlight++;
    void this.onMessage(p.buf, p.rinfo).finally(() => {
      this.inFlight--;
      this.next();
    });
  }

  /** Starts waiting packets while there is room; one that waited too long is dropped, its client has retried. */
  private next(): void {
    while (this.inFlight < this.limits.maxInFlight) {
      const p = this.queue.shift();
      if (p === undefined) break;
      if (this.now() - p.at > this.limits.maxQueueAgeMs) { this.shed('overload_stale'); continue; }
      this.run(p);
    }
  }

  private shed(reason: 'overload_shed' | 'overload_stale'): void {
    this.options.metrics.dropped.inc({ reason });
    const now = this.now();
    if (now - this.lastShedLog >= 10_000) {
      this.lastShedLog = now;
      log.warn('dhcp.overload', { reason, inFlight: this.inFlight, queued: this.queue.size, maxInFlight: this.limits.maxInFlight, maxQueue: this.limits.maxQueue });
    }
  }

  /** Per-client, then per-relay token buckets; the first refusal of a key is logged, every one counted. */
  private rateLimited(msg: DhcpMessage, clientKey: string | undefined, rinfo: dgram.RemoteInfo): boolean {
    const now = this.now();
    // The relay key is built only when its limit is on (off by default).
    if (this.clientBuckets.enabled) {
      const key = clientKey ?? `src:${rinfo.address}`;
      if (this.refused('client', key, this.clientBuckets.take(key, now), rinfo)) return true;
    }
    if (this.relayBuckets.enabled) {
      const key = msg.giaddr !== 0 ? formatIpv4(msg.giaddr) : 'direct';
      if (this.refused('relay', key, this.relayBuckets.take(key, now), rinfo)) return true;
    }
    return false;
  }

  private refused(kind: 'client' | 'relay', key: string, verdict: TakeResult, rinfo: dgram.RemoteInfo): boolean {
    if (verdict === 'ok') return false;
    this.options.metrics.dropped.inc({ reason: `rate_limited_${kind}` });
    if (verdict === 'limited-first') {
      const rate = kind === 'client' ? this.limits.clientRatePerSecond : this.limits.relayRatePerSecond;
      log.warn('dhcp.rate_limited', { kind, key, ratePerSecond: rate, from: rinfo.address, hint: `server.limits.${kind}RatePerSecond` });
    }
    return true;
  }

  get listening(): boolean { return this.bound; }

  /** Binds the socket; a port that is taken or not permitted rejects with a BindError (the socket is closed). */
  async start(): Promise<void> {
    const { address, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        this.socket.close();
        reject(new BindError({ what: 'DHCP UDP', address, port, setting: 'server.listen.port' }, err));
      };
      this.socket.once('error', fail);
      this.socket.bind({ address, port, exclusive: true }, () => {
        this.socket.off('error', fail);
        resolve();
      });
    });
    this.socket.on('error', (err) => log.error('dhcp.socket.error', { err }));
    this.socket.setBroadcast(true);
    // Bursts of DISCOVERs arrive faster than one event-loop turn handles them; a bigger kernel buffer turns drops into queueing.
    try { this.socket.setRecvBufferSize(4 * 1024 * 1024); this.socket.setSendBufferSize(4 * 1024 * 1024); } catch { /* capped by net.core.rmem_max */ }
    this.bound = true;
    log.info('dhcp.listening', { address, port });
  }

  async stop(): Promise<void> {
    if (!this.bound) return;
    this.bound = false;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private async onMessage(buf: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const { metrics, engine } = this.options;
    const started = process.hrtime.bigint();
    let msg: DhcpMessage;
    try {
      msg = decodeMessage(buf);
    } catch (err) {
      const reason = err instanceof DecodeError ? `malformed_${err.code}` : 'malformed';
      metrics.dropped.inc({ reason });
      log.debug('dhcp.packet.malformed', { from: rinfo.address, reason, bytes: buf });
      if (!(err instanceof DecodeError)) log.error('dhcp.decode.bug', { err });
      return;
    }
    const typeName = MESSAGE_TYPE_NAMES[getMessageType(msg) ?? 0] ?? 'unknown';
    metrics.messagesReceived.inc({ type: typeName });
    const clientKey = clientKeyOfMessage(msg); // once per packet: the rate limit and the engine both key on it
    if (this.rateLimited(msg, clientKey, rinfo)) return;
    try {
      const decision = await engine.handle(msg, clientKey);
      if (decision.kind === 'drop') {
        metrics.dropped.inc({ reason: decision.reason });
        log.debug('dhcp.request.dropped', { type: typeName, reason: decision.reason, xid: msg.xid, from: rinfo.address });
        return;
      }
      if (decision.kind === 'reply') {
        const out = encodeMessage(decision.reply, { maxSize: Math.max(DEFAULT_MAX_MESSAGE, getMaxMessageSize(msg) ?? DEFAULT_MAX_MESSAGE) });
        await this.send(out, decision.to.port, formatIpv4(decision.to.address));
        metrics.messagesSent.inc({ type: MESSAGE_TYPE_NAMES[getMessageType(decision.reply) ?? 0] ?? 'unknown' });
      }
      metrics.processingSeconds.observe({ type: typeName }, Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      // A failed lease write means no ACK: the client retries and nothing was promised that is not stored.
      const reason = (err as { code?: string }).code === 'store_unavailable' ? 'store_unavailable' : 'internal_error';
      metrics.dropped.inc({ reason });
      log.error('dhcp.request.failed', { type: typeName, xid: msg.xid, err });
    }
  }

  private send(buf: Buffer, port: number, address: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(buf, port, address, (err) => (err ? reject(err) : resolve())));
  }
}
