// The UDP edge: receive, decode, let the engine decide, encode, send; count everything, crash on nothing.
import dgram from 'node:dgram';
import { DecodeError } from '../errors.ts';
import { log } from '../log.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import { formatIpv4 } from '../net/ipv4.ts';
import type { DhcpEngine } from './engine.ts';
import { MESSAGE_TYPE_NAMES, type DhcpMessage } from './message.ts';
import { getMaxMessageSize, getMessageType } from './options.ts';
import { decodeMessage, encodeMessage } from './wire.ts';

export interface UdpServerOptions {
  readonly engine: DhcpEngine;
  readonly metrics: ServerMetrics;
  readonly address: string;
  readonly port: number;
}

const DEFAULT_MAX_MESSAGE = 576;

export class DhcpUdpServer {
  private readonly socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  private readonly options: UdpServerOptions;
  private bound = false;

  constructor(options: UdpServerOptions) {
    this.options = options;
    this.socket.on('message', (buf, rinfo) => { void this.onMessage(buf, rinfo); });
    this.socket.on('error', (err) => log.error('dhcp.socket.error', { err }));
  }

  get listening(): boolean { return this.bound; }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: this.options.address, port: this.options.port, exclusive: true }, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    this.socket.setBroadcast(true);
    // Bursts of DISCOVERs arrive faster than one event-loop turn handles them; a bigger kernel buffer turns drops into queueing.
    try { this.socket.setRecvBufferSize(4 * 1024 * 1024); this.socket.setSendBufferSize(4 * 1024 * 1024); } catch { /* capped by net.core.rmem_max */ }
    this.bound = true;
    log.info('dhcp.listening', { address: this.options.address, port: this.options.port });
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
    try {
      const decision = await engine.handle(msg);
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
