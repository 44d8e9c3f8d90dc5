// The failover TCP edge (digest §1): listen on our address and dial the partner's (both sides, as
// ISC does), frame, authenticate (HMAC digest on every message when a secret is set), run the
// CONNECT/CONNECTACK handshake (primary sends CONNECT on every link; secondary checks and answers),
// keepalive (CONTACT every partner-receive-timer/3; close after our max-response-delay of silence),
// xid monotonicity, size limits, a cap on inbound sockets. Hostile input closes that one link with a
// logged reason; nothing here throws into the process. What the messages mean is peer.ts's business.
import net from 'node:net';
import type { Clock } from '../clock.ts';
import { DecodeError } from '../errors.ts';
import { log } from '../log.ts';
import {
  bytes, checkDigest, ConnectReject, decodeMessage, duplicateOption, encodeMessage, FrameReader, MESSAGE_NAMES, MessageType,
  Opt, optText, optU32, optU8, opt, text, u32, u8, type FoMessage, type FoOption,
} from './link-codec.ts';

/** ISC refuses CONNECT/CONNECTACK beyond 60 s of clock difference (digest §1.11, invariant 27). */
export const MAX_SKEW_SECONDS = 60;
/** ISC closes a link whose handshake has not finished in 15 s (digest §1.4). */
export const HANDSHAKE_TIMEOUT_MS = 15_000;
export const MAX_INBOUND_SOCKETS = 4;
export const VENDOR_CLASS = 'dhcp-failover-ts';
const RESPONSE_TYPES: ReadonlySet<number> = new Set([MessageType.CONNECTACK, MessageType.BNDACK, MessageType.UPDDONE, MessageType.POOLRESP]);

export interface LinkSettings {
  readonly relationship: string;
  readonly role: 'primary' | 'secondary';
  readonly localAddress: string;
  readonly localPort: number;
  readonly partnerAddress: string;
  readonly partnerPort: number;
  readonly secret?: Buffer | undefined;
  /** Ours: max-unacked-bndupd we accept, advertised in CONNECT/CONNECTACK. */
  readonly maxUnacked: number;
  /** Ours: receive-timer (= max-response-delay) in seconds; silence this long closes the link. */
  readonly receiveTimerSeconds: number;
  /** Primary: MCLT and HBA sent in CONNECT. */
  readonly mcltSeconds: number;
  readonly hba: Uint8Array;
  /** Reconnect backoff, ms (first attempt, cap). */
  readonly backoffMs?: { readonly min: number; readonly max: number } | undefined;
}

/** What the handshake learned about the partner. */
export interface PartnerParams {
  readonly maxUnacked: number;
  readonly receiveTimerSeconds: number;
  /** Secondary: adopted from CONNECT (invariant 11). */
  readonly mcltSeconds?: number | undefined;
  readonly hba?: Buffer | undefined;
  readonly vendorClass?: string | undefined;
  /** local − partner, seconds, measured on the handshake message. */
  readonly skewSeconds: number;
}

export interface TransportEvents {
  established(link: Link, params: PartnerParams): void;
  message(link: Link, m: FoMessage): void;
  closed(link: Link, reason: string, wasEstablished: boolean): void;
  /** Counted problems: auth failures, rejected handshakes, protocol errors, refused sockets. */
  problem(kind: 'auth' | 'skew' | 'rejected' | 'protocol' | 'refused', detail: Record<string, unknown>): void;
}

let linkIds = 0;

/** One TCP connection to the partner. */
export class Link {
  readonly id = ++linkIds;
  readonly inbound: boolean;
  private readonly socket: net.Socket;
  private readonly reader = new FrameReader();
  private readonly transport: FailoverTransport;
  private xid = 0;
  private lastPeerXid = -1;
  /** Our clock minus the partner's (as at the handshake), from the latest message's header time (D12 §11.1; MS checks every message). */
  skewSeconds: number | undefined;
  private receiveTimer: { cancel(): void } | undefined;
  private sendTimer: { cancel(): void } | undefined;
  private partnerReceiveTimerSeconds = 0;
  state: 'handshake' | 'established' | 'closed' = 'handshake';
  params: PartnerParams | undefined;

  constructor(socket: net.Socket, inbound: boolean, transport: FailoverTransport) {
    this.socket = socket;
    this.inbound = inbound;
    this.transport = transport;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`, { send: false }));
    socket.on('close', () => this.close('closed by partner', { send: false }));
    this.armReceive(HANDSHAKE_TIMEOUT_MS, 'handshake timeout');
  }

  isClosed(): boolean { return this.state === 'closed'; }

  get remote(): string { return `${this.socket.remoteAddress}:${this.socket.remotePort}`; }

  /** Sends a message with the next xid (or `xid` for a response); returns the xid used. */
  send(type: number, options: readonly FoOption[], xid?: number): number {
    if (this.state === 'closed') return -1;
    const id = xid ?? this.nextXid();
    let frame: Buffer;
    try {
      frame = encodeMessage({ type, time: Math.floor(this.transport.clock.now() / 1000), xid: id, options }, this.transport.settings.secret);
    } catch (err) {
      log.error('failover.link.encode_failed', { link: this.id, type: MESSAGE_NAMES[type], err });
      return -1;
    }
    this.socket.write(frame);
    this.armSend();
    return id;
  }

  nextXid(): number { this.xid = (this.xid + 1) >>> 0; return this.xid; }

  close(reason: string, opts: { send?: boolean; rejectReason?: number } = {}): void {
    if (this.state === 'closed') return;
    const was = this.state === 'established';
    if (opts.send !== false && opts.rejectReason !== undefined && was) {
      this.send(MessageType.DISCONNECT, [u8(Opt.REJECT_REASON, opts.rejectReason), text(Opt.MESSAGE, reason.slice(0, 200))]);
    }
    this.state = 'closed';
    this.receiveTimer?.cancel();
    this.sendTimer?.cancel();
    this.socket.end();
    this.socket.destroySoon?.();
    const t = this.transport.clock.setTimer(1000, () => this.socket.destroy());
    this.socket.once('close', () => t.cancel());
    this.transport.onLinkClosed(this, reason, was);
  }

  private armReceive(ms: number, reason: string): void {
    this.receiveTimer?.cancel();
    this.receiveTimer = this.transport.clock.setTimer(ms, () => this.close(reason, { rejectReason: ConnectReject.NO_TRAFFIC }));
  }

  private armSend(): void {
    this.sendTimer?.cancel();
    if (this.state !== 'established' || this.partnerReceiveTimerSeconds <= 0) return;
    const ms = Math.max(200, Math.floor((this.partnerReceiveTimerSeconds * 1000) / 3));
    this.sendTimer = this.transport.clock.setTimer(ms, () => this.send(MessageType.CONTACT, []));
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    let frames: Buffer[];
    try { frames = this.reader.push(chunk); } catch (err) { this.protocolError(err); return; }
    for (const frame of frames) {
      if (this.isClosed()) return;
      try { this.onFrame(frame); } catch (err) { this.protocolError(err); return; }
    }
  }

  private protocolError(err: unknown): void {
    const code = err instanceof DecodeError ? err.code : 'bug';
    if (!(err instanceof DecodeError)) log.error('failover.link.handler_failed', { link: this.id, err });
    this.transport.events.problem('protocol', { link: this.id, reason: code });
    this.close(`protocol error: ${code}: ${err instanceof Error ? err.message : String(err)}`, { send: false });
  }

  private onFrame(frame: Buffer): void {
    const m = decodeMessage(frame);
    const settings = this.transport.settings;
    const digest = checkDigest(frame, m, settings.secret);
    if (digest !== 'ok') {
      this.transport.events.problem('auth', { link: this.id, result: digest, type: MESSAGE_NAMES[m.type] });
      log.warn('failover.link.auth_failed', { link: this.id, remote: this.remote, result: digest, type: MESSAGE_NAMES[m.type] ?? m.type });
      this.close(`message digest ${digest}`, { send: false });
      return;
    }
    if (m.type < 1 || m.type > 12) throw new DecodeError('unknown_type', `message type ${m.type}`);
    if (m.type !== MessageType.BNDUPD && m.type !== MessageType.BNDACK) {
      const dup = duplicateOption(m);
      if (dup !== undefined) throw new DecodeError('duplicate_option', `option ${dup} repeated`);
    }
    if (settings.secret !== undefined && !RESPONSE_TYPES.has(m.type)) {
      // Replay defence (D12 §11.1): requests carry strictly increasing xids on a link.
      if (m.xid <= this.lastPeerXid) throw new DecodeError('xid_not_increasing', `xid ${m.xid} after ${this.lastPeerXid}`);
      this.lastPeerXid = m.xid;
    }
    if (this.state === 'handshake') { this.handshake(m); return; }
    this.armReceive(settings.receiveTimerSeconds * 1000, 'no traffic within max-response-delay');
    // Clocks can drift apart after the handshake: the link is refused the moment they differ too much.
    const skew = this.skewOf(m);
    this.skewSeconds = skew;
    if (Math.abs(skew) > MAX_SKEW_SECONDS) {
      const why = `clock skew ${skew} s exceeds ${MAX_SKEW_SECONDS} s; synchronise clocks (NTP)`;
      this.transport.events.problem('skew', { link: this.id, reason: ConnectReject.TIME_MISMATCH, why, skewSeconds: skew });
      this.close(why, { rejectReason: ConnectReject.TIME_MISMATCH });
      return;
    }
    if (m.type === MessageType.CONTACT) return;
    if (m.type === MessageType.DISCONNECT) {
      this.close(`partner disconnected: reason ${optU8(m, Opt.REJECT_REASON) ?? '?'} ${optText(m, Opt.MESSAGE) ?? ''}`.trim(), { send: false });
      return;
    }
    if (m.type === MessageType.CONNECT || m.type === MessageType.CONNECTACK) throw new DecodeError('handshake_repeated', 'CONNECT/CONNECTACK on an established link');
    this.transport.events.message(this, m);
  }

  private skewOf(m: FoMessage): number { return Math.floor(this.transport.clock.now() / 1000) - m.time; }

  private handshake(m: FoMessage): void {
    const s = this.transport.settings;
    if (s.role === 'secondary') {
      if (m.type !== MessageType.CONNECT) throw new DecodeError('expected_connect', `${MESSAGE_NAMES[m.type] ?? m.type} before CONNECT`);
      const reject = (reason: number, why: string, kind: 'skew' | 'rejected' = 'rejected'): void => {
        this.transport.events.problem(kind, { link: this.id, reason, why });
        log.warn('failover.connect.rejected', { link: this.id, remote: this.remote, rejectReason: reason, why });
        this.send(MessageType.CONNECTACK, [text(Opt.RELATIONSHIP, s.relationship), u8(Opt.PROTOCOL_VERSION, 1), u8(Opt.REJECT_REASON, reason), text(Opt.MESSAGE, why)], m.xid);
        this.close(`rejected CONNECT: ${why}`, { send: false });
      };
      const version = optU8(m, Opt.PROTOCOL_VERSION);
      if (version !== undefined && version !== 1) { reject(ConnectReject.VERSION_MISMATCH, `protocol version ${version}`); return; }
      const name = optText(m, Opt.RELATIONSHIP);
      if (name !== s.relationship) { reject(ConnectReject.INVALID_PARTNER, `relationship ${JSON.stringify(name)} is not ${JSON.stringify(s.relationship)}`); return; }
      const skew = this.skewOf(m);
      if (Math.abs(skew) > MAX_SKEW_SECONDS) { reject(ConnectReject.TIME_MISMATCH, `clock skew ${skew} s exceeds ${MAX_SKEW_SECONDS} s; synchronise clocks (NTP)`, 'skew'); return; }
      const mclt = optU32(m, Opt.MCLT);
      if (mclt === undefined || mclt === 0) { reject(ConnectReject.INVALID_MCLT, 'MCLT missing or 0'); return; }
      const hba = opt(m, Opt.HBA);
      if (hba === undefined || hba.length !== 32) { reject(ConnectReject.HBA_CONFLICT, 'hash-bucket-assignment missing or not 32 bytes'); return; }
      if (this.transport.hasEstablished()) { reject(ConnectReject.DUPLICATE_CONNECTION, 'already connected'); return; }
      const ack: FoOption[] = [
        text(Opt.RELATIONSHIP, s.relationship), u32(Opt.MAX_UNACKED, s.maxUnacked), u32(Opt.RECEIVE_TIMER, s.receiveTimerSeconds),
        text(Opt.VENDOR_CLASS, VENDOR_CLASS), u8(Opt.PROTOCOL_VERSION, 1),
      ];
      if (opt(m, Opt.TLS_REQUEST) !== undefined) ack.push(u8(Opt.TLS_REPLY, 0));
      this.send(MessageType.CONNECTACK, ack, m.xid);
      this.establish({
        maxUnacked: optU32(m, Opt.MAX_UNACKED) ?? 1, receiveTimerSeconds: optU32(m, Opt.RECEIVE_TIMER) ?? 0,
        mcltSeconds: mclt, hba: Buffer.from(hba), vendorClass: optText(m, Opt.VENDOR_CLASS), skewSeconds: skew,
      });
      return;
    }
    // primary: we sent CONNECT; the only acceptable answer is CONNECTACK.
    if (m.type === MessageType.DISCONNECT) { this.close(`partner refused: reason ${optU8(m, Opt.REJECT_REASON) ?? '?'} ${optText(m, Opt.MESSAGE) ?? ''}`, { send: false }); return; }
    if (m.type !== MessageType.CONNECTACK) throw new DecodeError('expected_connectack', `${MESSAGE_NAMES[m.type] ?? m.type} before CONNECTACK`);
    const reason = optU8(m, Opt.REJECT_REASON);
    if (reason !== undefined) {
      this.transport.events.problem(reason === ConnectReject.TIME_MISMATCH ? 'skew' : 'rejected', { link: this.id, reason, by: 'partner' });
      log.warn('failover.connect.refused_by_partner', { link: this.id, remote: this.remote, rejectReason: reason, message: optText(m, Opt.MESSAGE) });
      this.close(`partner rejected CONNECT with reason ${reason}`, { send: false });
      return;
    }
    const name = optText(m, Opt.RELATIONSHIP);
    const fail = (r: number, why: string, kind: 'skew' | 'rejected' = 'rejected'): void => {
      this.transport.events.problem(kind, { link: this.id, reason: r, why });
      log.warn('failover.connectack.rejected', { link: this.id, remote: this.remote, rejectReason: r, why });
      this.send(MessageType.DISCONNECT, [u8(Opt.REJECT_REASON, r), text(Opt.MESSAGE, why)]);
      this.close(`rejected CONNECTACK: ${why}`, { send: false });
    };
    if (name !== s.relationship) { fail(ConnectReject.INVALID_PARTNER, `relationship ${JSON.stringify(name)} is not ${JSON.stringify(s.relationship)}`); return; }
    const skew = this.skewOf(m);
    if (Math.abs(skew) > MAX_SKEW_SECONDS) { fail(ConnectReject.TIME_MISMATCH, `clock skew ${skew} s exceeds ${MAX_SKEW_SECONDS} s; synchronise clocks (NTP)`, 'skew'); return; }
    if (this.transport.hasEstablished()) { this.close('spare link: already connected', { send: false }); return; }
    this.establish({
      maxUnacked: optU32(m, Opt.MAX_UNACKED) ?? 1, receiveTimerSeconds: optU32(m, Opt.RECEIVE_TIMER) ?? 0,
      vendorClass: optText(m, Opt.VENDOR_CLASS), skewSeconds: skew,
    });
  }

  /** Primary: the first message on every link (digest §1.4 ISC behaviour). */
  sendConnect(): void {
    const s = this.transport.settings;
    this.send(MessageType.CONNECT, [
      text(Opt.RELATIONSHIP, s.relationship), u32(Opt.MAX_UNACKED, s.maxUnacked), u32(Opt.RECEIVE_TIMER, s.receiveTimerSeconds),
      text(Opt.VENDOR_CLASS, VENDOR_CLASS), u8(Opt.PROTOCOL_VERSION, 1), u8(Opt.TLS_REQUEST, 0), u32(Opt.MCLT, s.mcltSeconds),
      bytes(Opt.HBA, s.hba),
    ]);
  }

  private establish(params: PartnerParams): void {
    this.state = 'established';
    this.params = params;
    this.partnerReceiveTimerSeconds = params.receiveTimerSeconds;
    this.armReceive(this.transport.settings.receiveTimerSeconds * 1000, 'no traffic within max-response-delay');
    this.armSend();
    log.info('failover.link.established', { link: this.id, remote: this.remote, inbound: this.inbound, partnerVendor: params.vendorClass, skewSeconds: params.skewSeconds });
    this.transport.onEstablished(this, params);
  }
}

/** Listener + dialer for one relationship. */
export class FailoverTransport {
  /** Replaced by relink(); links read it when they send or check a message. */
  settings: LinkSettings;
  readonly clock: Clock;
  readonly events: TransportEvents;
  private server: net.Server | undefined;
  private readonly links = new Set<Link>();
  private established: Link | undefined;
  private dialTimer: { cancel(): void } | undefined;
  private dialing = false;
  private backoff: number;
  private stopped = false;

  constructor(settings: LinkSettings, clock: Clock, events: TransportEvents) {
    this.settings = settings;
    this.clock = clock;
    this.events = events;
    this.backoff = settings.backoffMs?.min ?? 1000;
  }

  get current(): Link | undefined { return this.established; }
  hasEstablished(): boolean { return this.established !== undefined && this.established.state === 'established'; }

  async start(): Promise<void> {
    const server = net.createServer({ pauseOnConnect: false }, (socket) => this.accept(socket));
    server.maxConnections = MAX_INBOUND_SOCKETS + 1;
    server.on('error', (err) => log.error('failover.listen.error', { err }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.settings.localPort, this.settings.localAddress, () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
    log.info('failover.listening', { address: this.settings.localAddress, port: this.settings.localPort, relationship: this.settings.relationship });
    this.scheduleDial(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.dialTimer?.cancel();
    for (const l of [...this.links]) l.close('shutting down', { rejectReason: ConnectReject.UNKNOWN });
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * New link settings (secret, MCLT, HBA, timers; never the addresses or ports we listen on): every
   * link is closed with a DISCONNECT and re-established under them, so the partner sees the new CONNECT.
   */
  relink(settings: LinkSettings): void {
    this.settings = settings;
    this.backoff = settings.backoffMs?.min ?? 1000;
    for (const l of [...this.links]) l.close('configuration changed', { rejectReason: ConnectReject.UNKNOWN });
    this.scheduleDial(0);
  }

  private accept(socket: net.Socket): void {
    const remote = socket.remoteAddress?.replace(/^::ffff:/, '');
    const inbound = [...this.links].filter((l) => l.inbound).length;
    if (this.stopped || remote !== this.settings.partnerAddress || inbound >= MAX_INBOUND_SOCKETS) {
      const why = this.stopped ? 'stopping' : remote !== this.settings.partnerAddress ? 'not the partner address' : 'too many inbound connections';
      this.events.problem('refused', { remote, why });
      log.warn('failover.listen.refused', { remote, why });
      socket.destroy();
      return;
    }
    this.adopt(socket, true);
  }

  private adopt(socket: net.Socket, inbound: boolean): Link {
    const link = new Link(socket, inbound, this);
    this.links.add(link);
    if (this.settings.role === 'primary') link.sendConnect();
    return link;
  }

  private scheduleDial(ms: number): void {
    if (this.stopped) return;
    this.dialTimer?.cancel();
    this.dialTimer = this.clock.setTimer(ms, () => this.dial());
  }

  private dial(): void {
    if (this.stopped || this.dialing) return;
    if (this.hasEstablished()) return;
    // A link in handshake (either direction) is given its chance first: fewer duplicate-link rejects.
    if (this.links.size > 0) { this.scheduleDial(this.backoff); return; }
    this.dialing = true;
    const socket = net.connect({ host: this.settings.partnerAddress, port: this.settings.partnerPort, localAddress: this.settings.localAddress });
    const timeout = this.clock.setTimer(5000, () => socket.destroy(new Error('connect timeout')));
    socket.once('connect', () => {
      timeout.cancel();
      this.dialing = false;
      log.debug('failover.dial.connected', { partner: `${this.settings.partnerAddress}:${this.settings.partnerPort}` });
      this.adopt(socket, false);
    });
    socket.once('error', (err) => {
      timeout.cancel();
      if (!this.dialing) return; // errors after connect are the link's
      this.dialing = false;
      log.debug('failover.dial.failed', { err: err.message, retryMs: this.backoff });
      socket.destroy();
      this.scheduleDial(this.backoff);
      this.backoff = Math.min(this.backoff * 2, this.settings.backoffMs?.max ?? 10_000);
    });
  }

  onEstablished(link: Link, params: PartnerParams): void {
    this.established = link;
    this.backoff = this.settings.backoffMs?.min ?? 1000;
    for (const other of this.links) if (other !== link && other.state === 'established') other.close('duplicate link', { send: false });
    this.events.established(link, params);
  }

  onLinkClosed(link: Link, reason: string, wasEstablished: boolean): void {
    this.links.delete(link);
    const wasCurrent = this.established === link;
    if (wasCurrent) this.established = undefined;
    log.info('failover.link.closed', { link: link.id, reason, established: wasEstablished });
    this.events.closed(link, reason, wasCurrent);
    if (!wasEstablished) this.backoff = Math.min(this.backoff * 2, this.settings.backoffMs?.max ?? 10_000);
    if (!this.hasEstablished()) this.scheduleDial(this.backoff);
  }
}
