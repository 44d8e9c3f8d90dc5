// One failover TCP connection (digest §1): frame, authenticate (HMAC digest on every message when a
// secret is set; which key signs and which ones verify is link-keys.ts's, with per-link session keys
// between two of our servers and, during a secret rotation, the previous secret too), run the
// CONNECT/CONNECTACK handshake (primary sends CONNECT on every link; secondary checks and answers, with
// the checks and messages in handshake.ts), keepalive (CONTACT every partner-receive-timer/3; close
// after our max-response-delay of silence), xid monotonicity and size limits. Hostile input closes this
// one link with a logged reason; nothing here throws into the process. The transport that owns links
// is connection.ts.
import type net from 'node:net';
import type { Clock } from '../../clock.ts';
import { DecodeError } from '../../errors.ts';
import { log } from '../../log.ts';
import {
  acceptingConnectack, checkConnect, checkConnectack, clockSkewProblem, connectMessage, ConnectReject, HANDSHAKE_TIMEOUT_MS,
  partnerParamsFromConnect, partnerParamsFromConnectack, rejectingConnectack, skewSecondsOf, type HandshakeRejection,
} from './handshake.ts';
import { LinkKeys, splitSecretProof, type DigestCheck } from './link-keys.ts';
import type { LinkSettings, PartnerParams } from './link-params.ts';
import { labelOf, type SecretLabel, type SecretRing } from './secret-rotation.ts';
import { FrameReader } from '../wire/framing.ts';
import { decodeFailoverMessage, encodeFailoverMessage, type Connect, type FailoverMessage, type FailoverMessageType } from '../wire/message.ts';
import type { VendorOption } from '../wire/options.ts';

const RESPONSE_TYPES: ReadonlySet<FailoverMessageType> = new Set(['CONNECTACK', 'BNDACK', 'UPDDONE', 'POOLRESP']);

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A message to send: the link fills in the header time and the xid. */
export type Outgoing = DistributiveOmit<FailoverMessage, 'time' | 'xid' | 'skipped'>;

export interface TransportEvents {
  established(link: Link, params: PartnerParams): void;
  message(link: Link, m: FailoverMessage): void;
  closed(link: Link, reason: string, wasEstablished: boolean): void;
  /** Counted problems: auth failures, rejected handshakes, protocol errors, refused sockets. */
  problem(kind: 'auth' | 'skew' | 'rejected' | 'protocol' | 'refused', detail: Record<string, unknown>): void;
}

/** What a link needs from the transport that owns it (connection.ts). */
export interface LinkOwner {
  readonly settings: LinkSettings;
  readonly clock: Clock;
  readonly events: TransportEvents;
  hasEstablished(): boolean;
  onEstablished(link: Link, params: PartnerParams): void;
  onLinkClosed(link: Link, reason: string, wasEstablished: boolean): void;
  /** The secrets in force (current, and the previous one during its grace period); undefined without a secret. */
  secretRing(): SecretRing | undefined;
  /** Initiator: the secret to sign the next CONNECT with (secret-rotation.ts connectSecret). */
  connectSecret(): Buffer | undefined;
}

let linkIds = 0;

/** One TCP connection to the partner. */
export class Link {
  readonly id = ++linkIds;
  /** When the socket was adopted (eviction of stale handshakes, dial decisions). */
  readonly openedAt: number;
  readonly inbound: boolean;
  private readonly socket: net.Socket;
  private readonly reader = new FrameReader();
  private readonly transport: LinkOwner;
  private xid = 0;
  private lastPeerXid = -1;
  /** Our clock minus the partner's (as at the handshake), from the latest message's header time (D12 §11.1; MS checks every message). */
  skewSeconds: number | undefined;
  private receiveTimer: { cancel(): void } | undefined;
  private sendTimer: { cancel(): void } | undefined;
  private partnerReceiveTimerSeconds = 0;
  state: 'handshake' | 'established' | 'closed' = 'handshake';
  params: PartnerParams | undefined;
  /** Nonces, session keys and the secrets in use on this link (link-keys.ts). */
  private readonly keys = new LinkKeys();
  private previousLogged = false;
  /** Primary: the CONNECT went out signed with this secret and no verified answer has come back yet. */
  unansweredConnect: Buffer | undefined;
  /** Responder: CONNECT accepted, waiting for the first message under the session key (key confirmation). */
  private confirming: PartnerParams | undefined;

  constructor(socket: net.Socket, inbound: boolean, transport: LinkOwner) {
    this.openedAt = transport.clock.now();
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

  /** Sends a message with the next xid (or `xid` for a response); returns the xid used, -1 if not sent. */
  send(m: Outgoing, xid?: number): number {
    if (this.state === 'closed') return -1;
    const id = xid ?? this.nextXid();
    const settings = this.transport.settings;
    let frame: Buffer;
    try {
      const full = { ...m, time: Math.floor(this.transport.clock.now() / 1000), xid: id } as FailoverMessage;
      frame = encodeFailoverMessage(full, { dialect: settings.dialect, secret: this.keys.signingKey(this.transport.secretRing()) });
    } catch (err) {
      // A dialect violation or an oversized message is our bug, never the partner's: logged, not sent.
      log.error('failover.link.encode_failed', { link: this.id, type: m.type, err });
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
      this.send({ type: 'DISCONNECT', rejectReason: opts.rejectReason, message: reason.slice(0, 200) });
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
    this.receiveTimer = this.transport.clock.setTimer(ms, () => {
      // Counted: a partner that went silent, or a socket that never completed its handshake (slow loris).
      this.transport.events.problem('protocol', { link: this.id, reason: this.state === 'established' ? 'receive_timeout' : 'handshake_timeout' });
      this.close(reason, { rejectReason: ConnectReject.NO_TRAFFIC });
    });
  }

  private armSend(): void {
    this.sendTimer?.cancel();
    if (this.state !== 'established' || this.partnerReceiveTimerSeconds <= 0) return;
    const ms = Math.max(200, Math.floor((this.partnerReceiveTimerSeconds * 1000) / 3));
    this.sendTimer = this.transport.clock.setTimer(ms, () => this.send({ type: 'CONTACT', ...this.proofFields() }));
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
    // The typed codec rejects unknown types, bad lengths and repeated options (outside BNDUPD/BNDACK batches).
    let m = decodeFailoverMessage(frame);
    if (m.skipped !== undefined) log.debug('failover.message.options_skipped', { link: this.id, type: m.type, codes: m.skipped });
    const settings = this.transport.settings;
    const digest = this.verify(frame, m);
    if (digest !== 'ok') {
      this.authFailure(m, digest, this.keys.hasSessionKey ? 'not signed with this link\'s session key' : 'not signed with the shared secret');
      this.close(`message digest ${digest}`, { send: false });
      return;
    }
    if (settings.secret !== undefined && !RESPONSE_TYPES.has(m.type)) {
      // Replay defence (D12 §11.1): requests carry strictly increasing xids on a link.
      if (m.xid <= this.lastPeerXid) throw new DecodeError('xid_not_increasing', `xid ${m.xid} after ${this.lastPeerXid}`);
      this.lastPeerXid = m.xid;
    }
    if (this.state === 'handshake') {
      if (this.confirming === undefined) { this.handshake(m); return; }
      if (!this.confirm(m)) return;
    }
    this.armReceive(settings.receiveTimerSeconds * 1000, 'no traffic within max-response-delay');
    // Clocks can drift apart after the handshake: the link is refused the moment they differ too much.
    const skew = this.skewOf(m);
    this.skewSeconds = skew;
    const why = clockSkewProblem(skew);
    if (why !== undefined) {
      this.transport.events.problem('skew', { link: this.id, reason: ConnectReject.TIME_MISMATCH, why, skewSeconds: skew });
      this.close(why, { rejectReason: ConnectReject.TIME_MISMATCH });
      return;
    }
    if (m.type === 'CONTACT' && m.vendorOptions !== undefined) m = this.takeSecretProof(m);
    if (m.type === 'CONTACT' && m.vendorOptions === undefined) return; // a keepalive; with options it is our handover
    if (m.type === 'DISCONNECT') {
      this.close(`partner disconnected: reason ${m.rejectReason ?? '?'} ${m.message ?? ''}`.trim(), { send: false });
      return;
    }
    if (m.type === 'CONNECT' || m.type === 'CONNECTACK') throw new DecodeError('handshake_repeated', 'CONNECT/CONNECTACK on an established link');
    this.transport.events.message(this, m);
  }

  private get usesSessionKeys(): boolean {
    return this.transport.settings.secret !== undefined && this.transport.settings.sessionKeys;
  }

  /** Checks `m`'s digest (link-keys.ts verify); logs the first message signed with the previous secret. */
  private verify(frame: Buffer, m: FailoverMessage): DigestCheck {
    const ring = this.transport.secretRing();
    const now = this.transport.clock.now();
    const { result, used } = this.keys.verify(frame, m, ring, now, this.usesSessionKeys);
    if (ring === undefined || used === undefined) return result;
    this.unansweredConnect = undefined;
    if (labelOf(ring, used, now) === 'previous' && !this.previousLogged) {
      this.previousLogged = true;
      log.info('failover.secret.previous_accepted', {
        link: this.id, remote: this.remote, type: m.type, until: ring.previousUntil === undefined ? undefined : new Date(ring.previousUntil).toISOString(),
        why: 'the partner signs with the secret this server had before the last change; accepted until then',
      });
    }
    if (this.state === 'established') this.follow(false);
    return 'ok';
  }

  /**
   * Applies the signing rule (secret-rotation.ts signingSecret) after the partner showed something or the
   * ring changed: move to the current secret once the partner has it, close the link when none of its
   * secrets is accepted any more. `announce`: tell the partner at once by signing a CONTACT with it.
   */
  private follow(announce: boolean): void {
    if (this.state === 'closed') return;
    const outcome = this.keys.follow(this.transport.secretRing(), this.transport.clock.now());
    if (outcome === 'kept') return;
    if (outcome === 'expired') {
      const why = 'the link still uses a secret that is no longer accepted (the previous one expired, or a second change replaced it): the partner never showed the current secret';
      this.transport.events.problem('auth', { link: this.id, result: 'secret_expired' });
      log.warn('failover.secret.link_expired', { link: this.id, remote: this.remote, why });
      this.close(why, { send: false });
      return;
    }
    log.info('failover.secret.link_moved', { link: this.id, remote: this.remote, to: 'current', why: 'the partner has the current secret' });
    if (announce && this.state === 'established') this.send({ type: 'CONTACT' });
  }

  /** The ring changed (a new secret, or the previous one expired): re-judge this link (connection.ts). */
  secretsChanged(): void {
    if (this.state === 'closed' || this.keys.signingSecret === undefined) return;
    if (this.state === 'handshake') {
      if (labelOf(this.transport.secretRing(), this.keys.signingSecret, this.transport.clock.now()) === undefined) this.close('handshake under a secret that is no longer accepted', { send: false });
      return;
    }
    this.follow(false);
    const proof = this.proofFields();
    if (this.state === 'established' && proof.vendorOptions !== undefined) this.send({ type: 'CONTACT', ...proof });
  }

  /** 'current' once both directions use the current secret, 'previous' while one still uses the previous one; undefined without a secret. */
  secretInUse(): SecretLabel | undefined {
    return this.keys.label(this.transport.secretRing(), this.transport.clock.now());
  }

  /** The secret this link was made with or moved to (the transport's preference for its next CONNECT). */
  get signingSecret(): Buffer | undefined { return this.keys.signingSecret; }

  /** While we sign with an older secret than our current one: the proof that we hold the current one, for a CONTACT. */
  private proofFields(): { vendorOptions?: VendorOption[] } {
    const options = this.usesSessionKeys ? this.keys.secretProofOptions(this.transport.secretRing(), this.transport.settings.role) : undefined;
    return options === undefined ? {} : { vendorOptions: options };
  }

  /**
   * A CONTACT from the partner: reads and removes our secret proof (if the CONTACT carries one); returns
   * the CONTACT with whatever other vendor options it has (none: a keepalive).
   */
  private takeSecretProof<M extends FailoverMessage & { type: 'CONTACT' }>(m: M): M {
    const { proof, rest } = splitSecretProof(m);
    if (!this.usesSessionKeys || proof === undefined) return m;
    const outcome = this.keys.takeSecretProof(proof, this.transport.secretRing(), this.transport.settings.role);
    if (outcome === 'proved') this.follow(true);
    else if (outcome === 'unmatched') log.debug('failover.secret.proof_unmatched', { link: this.id, why: 'the partner holds a secret that is not our current one (it may be ahead of us)' });
    return rest;
  }

  private authFailure(m: FailoverMessage, result: string, why: string): void {
    this.transport.events.problem('auth', { link: this.id, result, type: m.type });
    log.warn('failover.link.auth_failed', { link: this.id, remote: this.remote, result, type: m.type, why });
  }

  /**
   * Responder with session keys: the first message after our CONNECTACK verified under the link's key,
   * so the initiator holds the secret and saw our nonce; only now is the link established. A replayed
   * CONNECT never gets this far (its sender cannot sign with the new key) and times out as a handshake.
   */
  private confirm(m: FailoverMessage): boolean {
    const params = this.confirming!;
    this.confirming = undefined;
    if (m.type === 'DISCONNECT') { this.close(`partner disconnected before confirming: reason ${m.rejectReason ?? '?'}`, { send: false }); return false; }
    if (this.transport.hasEstablished()) {
      this.transport.events.problem('rejected', { link: this.id, reason: ConnectReject.DUPLICATE_CONNECTION, why: 'already connected' });
      this.close('spare link: already connected', { send: false });
      return false;
    }
    this.establish(params);
    return true;
  }

  private skewOf(m: FailoverMessage): number { return skewSecondsOf(m.time, this.transport.clock.now()); }

  private handshake(m: FailoverMessage): void {
    if (this.transport.settings.role === 'secondary') this.answerConnect(m);
    else this.takeConnectack(m);
  }

  /** Secondary: checks the partner's CONNECT (handshake.ts checkConnect) and answers it. */
  private answerConnect(m: FailoverMessage): void {
    const s = this.transport.settings;
    if (m.type !== 'CONNECT') throw new DecodeError('expected_connect', `${m.type} before CONNECT`);
    if (this.usesSessionKeys && !this.keys.answerConnectNonce(m)) {
      // Signed with the secret but without a nonce: a partner without session keys (partnerDialect must be
      // 'self' on both sides), or a CONNECT recorded from one. Refused, and told why.
      this.authFailure(m, 'no_session_nonce', 'CONNECT carries no session nonce');
      this.rejectConnect(m, { reason: ConnectReject.DIGEST_FAILED, why: 'no session nonce in CONNECT: the partner must be a dhcp-failover-ts server with partnerDialect self', kind: 'rejected' });
      return;
    }
    const skew = this.skewOf(m);
    const rejection = checkConnect(m, { relationship: s.relationship, skewSeconds: skew, alreadyConnected: this.transport.hasEstablished() });
    if (rejection !== undefined) { this.rejectConnect(m, rejection); return; }
    this.send(acceptingConnectack(s, m, this.keys.nonce), m.xid);
    const params = partnerParamsFromConnect(m, skew);
    if (this.keys.hasSessionKey) this.confirming = params;
    else this.establish(params);
  }

  /** Secondary: refuses `m` with a CONNECTACK that says why, then closes. */
  private rejectConnect(m: Connect, r: HandshakeRejection): void {
    this.transport.events.problem(r.kind, { link: this.id, reason: r.reason, why: r.why });
    log.warn('failover.connect.rejected', { link: this.id, remote: this.remote, rejectReason: r.reason, why: r.why });
    this.send(rejectingConnectack(this.transport.settings, r, this.keys.nonce), m.xid);
    this.close(`rejected CONNECT: ${r.why}`, { send: false });
  }

  /** Primary: we sent CONNECT; the only acceptable answer is CONNECTACK (handshake.ts checkConnectack). */
  private takeConnectack(m: FailoverMessage): void {
    if (m.type === 'DISCONNECT') { this.close(`partner refused: reason ${m.rejectReason ?? '?'} ${m.message ?? ''}`, { send: false }); return; }
    if (m.type !== 'CONNECTACK') throw new DecodeError('expected_connectack', `${m.type} before CONNECTACK`);
    if (m.rejectReason !== undefined) {
      this.transport.events.problem(m.rejectReason === ConnectReject.TIME_MISMATCH ? 'skew' : 'rejected', { link: this.id, reason: m.rejectReason, by: 'partner' });
      log.warn('failover.connect.refused_by_partner', { link: this.id, remote: this.remote, rejectReason: m.rejectReason, message: m.message });
      this.close(`partner rejected CONNECT with reason ${m.rejectReason}`, { send: false });
      return;
    }
    const skew = this.skewOf(m);
    const rejection = checkConnectack(m, { relationship: this.transport.settings.relationship, skewSeconds: skew });
    if (rejection !== undefined) {
      this.transport.events.problem(rejection.kind, { link: this.id, reason: rejection.reason, why: rejection.why });
      log.warn('failover.connectack.rejected', { link: this.id, remote: this.remote, rejectReason: rejection.reason, why: rejection.why });
      this.send({ type: 'DISCONNECT', rejectReason: rejection.reason, message: rejection.why.slice(0, 200) });
      this.close(`rejected CONNECTACK: ${rejection.why}`, { send: false });
      return;
    }
    if (this.transport.hasEstablished()) { this.close('spare link: already connected', { send: false }); return; }
    if (this.usesSessionKeys && !this.keys.hasSessionKey) { // verify found no nonce in it
      this.authFailure(m, 'no_session_nonce', 'CONNECTACK carries no session nonce');
      this.close('no session nonce in CONNECTACK: the partner must be a dhcp-failover-ts server with partnerDialect self', { send: false });
      return;
    }
    this.establish(partnerParamsFromConnectack(m, skew));
  }

  /** Primary: the first message on every link (digest §1.4 ISC behaviour). */
  sendConnect(): void {
    const secret = this.transport.connectSecret();
    this.keys.startConnect(secret, this.usesSessionKeys);
    if (secret !== undefined) this.unansweredConnect = secret;
    this.send(connectMessage(this.transport.settings, this.keys.nonce));
  }

  private establish(params: PartnerParams): void {
    this.state = 'established';
    this.params = params;
    this.partnerReceiveTimerSeconds = params.receiveTimerSeconds;
    this.armReceive(this.transport.settings.receiveTimerSeconds * 1000, 'no traffic within max-response-delay');
    this.armSend();
    log.info('failover.link.established', { link: this.id, remote: this.remote, inbound: this.inbound, partnerVendor: params.vendorClass, skewSeconds: params.skewSeconds, secret: this.secretInUse() });
    this.transport.onEstablished(this, params);
    // Made with the previous secret while we already hold a newer one: say so, so that a partner that has it too moves the link.
    const proof = this.proofFields();
    if (this.state === 'established' && proof.vendorOptions !== undefined) this.send({ type: 'CONTACT', ...proof });
  }
}
