// A DHCP client simulator that speaks through a relay address (giaddr), as perfdhcp does, but keeps
// each client's answer and behaves like a real client on retries: DISCOVER is retransmitted every
// `retryMs` with `secs` = seconds since the client began (RFC 2131 §4.4.1), which is what the
// failover partner-down guard and load-balance takeover read. Used in the host process for loopback
// tests and, through relay-client-cli.ts, inside a network namespace.
import dgram from 'node:dgram';
import { MessageType } from '../../src/dhcp/wire/message.ts';
import { getMessageType } from '../../src/dhcp/wire/message-options.ts';
import { decodeMessage, encodeMessage } from '../../src/dhcp/wire/packet.ts';
import { formatIpv4 } from '../../src/net/ipv4.ts';
import { ip, makeRequest } from './dhcp-builders.ts';

export interface RelayClientOptions {
  /** Address the relay socket binds (port 67) and puts in giaddr. */
  readonly relayAddress: string;
  /** Where requests go: the servers' addresses, or 255.255.255.255 (needs a broadcast-capable link). */
  readonly targets: readonly string[];
  /** Servers' DHCP port (67 unless a loopback test moved it). */
  readonly serverPort?: number;
}

export interface AcquireOptions {
  /** Ask for this address (a client that remembers its lease: INIT-REBOOT through the relay). */
  readonly requested?: string;
  /** Give up after this long (default 4 s). */
  readonly timeoutMs?: number;
  /** Retransmit the DISCOVER this often (default 1 s); each one carries the grown `secs`. */
  readonly retryMs?: number;
}

export interface Acquired {
  readonly mac: string;
  /** The lease store's key for this client (htype 1 + MAC). */
  readonly hw: string;
  readonly ip: string;
  /** Server identifier of the ACK. */
  readonly server: string;
  /** DISCOVERs sent before an OFFER came. */
  readonly discovers: number;
  /** `secs` of the REQUEST that was ACKed. */
  readonly secs: number;
  /** When the first DISCOVER went out (epoch ms), and how long until the ACK. */
  readonly startedAt: number;
  readonly ms: number;
  /** Option 51 of the ACK. */
  readonly leaseSeconds: number;
  /** When the (first) REQUEST that was ACKed went out: where the client's lease time starts. */
  readonly requestedAt: number;
}

type Reply = ReturnType<typeof decodeMessage>;

export class RelayClient {
  private readonly socket = dgram.createSocket('udp4');
  private readonly waiting = new Map<string, (reply: Reply) => void>();
  private readonly opts: RelayClientOptions;
  constructor(opts: RelayClientOptions) { this.opts = opts; }

  async open(): Promise<void> {
    this.socket.on('message', (buf) => {
      try {
        const reply = decodeMessage(buf);
        this.waiting.get(`${reply.xid}:${getMessageType(reply)}`)?.(reply);
      } catch { /* not a DHCP reply: ignore */ }
    });
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(67, this.opts.relayAddress, () => { this.socket.setBroadcast(true); resolve(); });
    });
  }

  close(): void { this.socket.close(); }

  private send(msg: ReturnType<typeof makeRequest>): void {
    const packet = encodeMessage(msg);
    for (const host of this.opts.targets) this.socket.send(packet, this.opts.serverPort ?? 67, host);
  }

  /** Resolves with the first reply of type `expect` for `xid`, or undefined after `ms`. */
  private awaitReply(xid: number, expect: number, ms: number): Promise<Reply | undefined> {
    const key = `${xid}:${expect}`;
    return new Promise<Reply | undefined>((resolve) => {
      const timer = setTimeout(() => { this.waiting.delete(key); resolve(undefined); }, ms);
      this.waiting.set(key, (r) => { clearTimeout(timer); this.waiting.delete(key); resolve(r); });
    });
  }

  /** DISCOVER (retransmitted with growing secs) → first OFFER → REQUEST → ACK. */
  async acquire(mac: string, o: AcquireOptions = {}): Promise<Acquired | undefined> {
    const timeoutMs = o.timeoutMs ?? 4000, retryMs = o.retryMs ?? 1000;
    const xid = Math.floor(Math.random() * 0xffffffff);
    const started = Date.now();
    const giaddr = ip(this.opts.relayAddress);
    const secsNow = () => Math.floor((Date.now() - started) / 1000);
    const offerWait = this.awaitReply(xid, MessageType.OFFER, timeoutMs);
    let discovers = 0;
    const sendDiscover = () => {
      discovers++;
      this.send({ ...makeRequest({ type: MessageType.DISCOVER, mac, xid, giaddr, ...(o.requested ? { requested: ip(o.requested) } : {}) }), secs: secsNow() });
    };
    sendDiscover();
    const retry = setInterval(sendDiscover, retryMs);
    const offer = await offerWait;
    clearInterval(retry);
    if (offer === undefined) return undefined;
    const serverId = offer.options.get(54)!.readUInt32BE(0);
    const secs = secsNow();
    const left = Math.max(500, timeoutMs - (Date.now() - started));
    const ackWait = this.awaitReply(xid, MessageType.ACK, left);
    const request = { ...makeRequest({ type: MessageType.REQUEST, mac, xid, giaddr, requested: offer.yiaddr, serverId }), secs };
    const requestedAt = Date.now();
    this.send(request);
    const resend = setInterval(() => this.send(request), Math.min(retryMs, 1000));
    const ack = await ackWait;
    clearInterval(resend);
    if (ack === undefined) return undefined;
    return { mac, hw: `1:${mac.replace(/:/g, '')}`, ip: formatIpv4(ack.yiaddr), server: formatIpv4(serverId), discovers, secs, startedAt: started, ms: Date.now() - started, leaseSeconds: ack.options.get(51)?.readUInt32BE(0) ?? 0, requestedAt };
  }

  /**
   * RENEWING/REBINDING through the relay: REQUEST with ciaddr = the bound address and no server id,
   * retransmitted every `retryMs`; undefined on NAK or silence. Renewals are never load-balanced.
   */
  async renew(mac: string, address: string, o: { timeoutMs?: number; retryMs?: number } = {}): Promise<Acquired | 'nak' | undefined> {
    const timeoutMs = o.timeoutMs ?? 4000;
    const xid = Math.floor(Math.random() * 0xffffffff);
    const started = Date.now();
    const request = { ...makeRequest({ type: MessageType.REQUEST, mac, xid, giaddr: ip(this.opts.relayAddress), ciaddr: ip(address) }) };
    const kAck = `${xid}:${MessageType.ACK}`, kNak = `${xid}:${MessageType.NAK}`;
    const answer = new Promise<{ kind: 'ack' | 'nak'; r: Reply } | undefined>((resolve) => {
      const done = (v: { kind: 'ack' | 'nak'; r: Reply } | undefined) => { clearTimeout(timer); this.waiting.delete(kAck); this.waiting.delete(kNak); resolve(v); };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.waiting.set(kAck, (r) => done({ kind: 'ack', r }));
      this.waiting.set(kNak, (r) => done({ kind: 'nak', r }));
    });
    this.send(request);
    const resend = setInterval(() => this.send({ ...request, secs: Math.floor((Date.now() - started) / 1000) }), o.retryMs ?? 1000);
    const reply = await answer;
    clearInterval(resend);
    if (reply === undefined) return undefined;
    if (reply.kind === 'nak') return 'nak';
    const r = reply.r;
    const serverId = r.options.get(54)?.readUInt32BE(0) ?? 0;
    return { mac, hw: `1:${mac.replace(/:/g, '')}`, ip: formatIpv4(r.yiaddr), server: formatIpv4(serverId), discovers: 0, secs: 0, startedAt: started, ms: Date.now() - started, leaseSeconds: r.options.get(51)?.readUInt32BE(0) ?? 0, requestedAt: started };
  }

  /**
   * Acquire for many clients, `concurrency` at a time; results in input order (undefined = no lease).
   * `staggerMs` instead starts client i at i × staggerMs, all concurrently (a steady arrival stream).
   */
  async acquireAll(clients: readonly { mac: string; requested?: string }[], o: AcquireOptions & { concurrency?: number; staggerMs?: number } = {}): Promise<(Acquired | undefined)[]> {
    const one = (c: { mac: string; requested?: string }) => this.acquire(c.mac, { ...o, ...(c.requested ? { requested: c.requested } : {}) });
    if (o.staggerMs !== undefined) {
      const stagger = o.staggerMs;
      return Promise.all(clients.map((c, i) => new Promise<void>((r) => setTimeout(r, i * stagger)).then(() => one(c))));
    }
    const out: (Acquired | undefined)[] = new Array(clients.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < clients.length; i = next++) out[i] = await one(clients[i]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 20) }, worker));
    return out;
  }
}

/** Deterministic locally administered MACs: `02:<tag>:..` + a 24-bit index. */
export function macOf(tag: number, i: number): string {
  const b = [0x02, tag & 0xff, 0x00, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
