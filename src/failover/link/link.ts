// One failover TCP connection (digest §1): frame, authenticate (HMAC digest on every message when a
// secret is set; per-link session keys between two of our servers, session-key.ts; during a secret
// rotation the previous secret too, and the move to the new one, secret-rotation.ts), run the
// CONNECT/CONNECTACK handshake (primary sends CONNECT on every link; secondary checks and answers),
// keepalive (CONTACT every partner-receive-timer/3; close after our max-response-delay of silence),
// xid monotonicity and size limits. Hostile input closes this one link with a logged reason; nothing
// here throws into the process. The transport that owns links is connection.ts.
import { timingSafeEqual } from 'node:crypto';
import type net from 'node:net';
import type { Clock } from '../../clock.ts';
import { DecodeError } from '../../errors.ts';
import { log } from '../../log.ts';
import { acceptedSecrets, labelOf, linkSecretLabel, receiveSecrets, signingSecret, type LinkSecrets, type SecretLabel, type SecretRing } from './secret-rotation.ts';
import { newNonce, nonceOf, nonceOptions, PROOF_SIZE, SECRET_PROOF_SUBOPTION, secretProof, sessionKey } from './session-key.ts';
import { hasDigest, verifyMessage } from '../wire/auth.ts';
import type { WireDialect } from '../wire/dialect.ts';
import { FrameReader } from '../wire/framing.ts';
import { decodeFailoverMessage, encodeFailoverMessage, type FailoverMessage, type FailoverMessageType } from '../wire/message.ts';
import { REJECT_REASONS, type VendorOption } from '../wire/options.ts';

/** ISC refuses CONNECT/CONNECTACK beyond 60 s of clock difference (digest §1.11, invariant 27). */
export const MAX_SKEW_SECONDS = 60;
/** ISC closes a link whose handshake has not finished in 15 s (digest §1.4). */
export const HANDSHAKE_TIMEOUT_MS = 15_000;
export const VENDOR_CLASS = 'dhcp-failover-ts';
const RESPONSE_TYPES: ReadonlySet<FailoverMessageType> = new Set(['CONNECTACK', 'BNDACK', 'UPDDONE', 'POOLRESP']);
/** Reject reasons the link itself uses (digest §3.2). */
export const ConnectReject = {
  TIME_MISMATCH: REJECT_REASONS.TIME_MISMATCH, INVALID_MCLT: REJECT_REASONS.INVALID_MCLT, UNKNOWN: REJECT_REASONS.UNKNOWN,
  DUPLICATE_CONNECTION: REJECT_REASONS.DUPLICATE_CONNECTION, INVALID_PARTNER: REJECT_REASONS.INVALID_PARTNER,
  VERSION_MISMATCH: REJECT_REASONS.VERSION_MISMATCH, NO_TRAFFIC: REJECT_REASONS.NO_TRAFFIC, HBA_CONFLICT: REJECT_REASONS.HBA_CONFLICT,
  DIGEST_FAILED: REJECT_REASONS.DIGEST_FAILED,
} as const;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A message to send: the link fills in the header time and the xid. */
export type Outgoing = DistributiveOmit<FailoverMessage, 'time' | 'xid' | 'skipped'>;
export type DigestCheck = 'ok' | 'missing' | 'bad' | 'unexpected';

/** With a secret: the digest must be present, last, and verify. Without: none may be present (D12 reason 13). */
export function checkDigest(frame: Buffer, secret: Buffer | undefined): DigestCheck {
  if (secret === undefined) return hasDigest(frame) ? 'unexpected' : 'ok';
  return verifyMessage(frame, secret);
}

export interface LinkSettings {
  readonly relationship: string;
  readonly role: 'primary' | 'secondary';
  readonly localAddress: string;
  readonly localPort: number;
  readonly partnerAddress: string;
  readonly partnerPort: number;
  readonly secret?: Buffer | undefined;
  /** How long a replaced secret stays accepted (secret-rotation.ts SECRET_GRACE_MS; tests shorten it). */
  readonly secretGraceMs?: number | undefined;
  /** How the partner encodes messages (ISC = draft-12, or Microsoft); checked on every send. */
  readonly dialect: WireDialect;
  /** With a secret: sign with a per-link key from both sides' nonces (session-key.ts). Only between our own servers. */
  readonly sessionKeys: boolean;
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
  /** Session keys (session-key.ts): our nonce on this link, and the key once both nonces are known. */
  private ownNonce: Buffer | undefined;
  /** Both nonces, once the handshake has them: from then on every message is signed with a key derived from them. */
  private nonces: { readonly initiator: Buffer; readonly responder: Buffer } | undefined;
  /** Session keys by the secret they come from (current and previous during a rotation). */
  private readonly keys = new Map<Buffer, Buffer>();
  /** Which secrets this link signs and verifies with (secret-rotation.ts); undefined without a secret or before the handshake. */
  private secrets: LinkSecrets | undefined;
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
      frame = encodeFailoverMessage(full, { dialect: settings.dialect, secret: this.signingKey() });
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
      this.authFailure(m, digest, this.nonces !== undefined ? 'not signed with this link\'s session key' : 'not signed with the shared secret');
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
    if (Math.abs(skew) > MAX_SKEW_SECONDS) {
      const why = `clock skew ${skew} s exceeds ${MAX_SKEW_SECONDS} s; synchronise clocks (NTP)`;
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

  /** The key our next message is signed with: the link's signing secret (or its session key), else the current secret. */
  private signingKey(): Buffer | undefined {
    const ring = this.transport.secretRing();
    if (ring === undefined) return undefined; // no secret (any more): nothing is signed
    return this.keyOf(this.secrets?.signing ?? ring.current);
  }

  /** `secret` itself before both nonces are known (or without session keys), else this link's session key under it. */
  private keyOf(secret: Buffer): Buffer {
    if (this.nonces === undefined) return secret;
    let key = this.keys.get(secret);
    if (key === undefined) {
      key = sessionKey(secret, this.nonces.initiator, this.nonces.responder);
      this.keys.set(secret, key);
    }
    return key;
  }

  /**
   * Checks `m`'s digest against the secrets it may be signed with (secret-rotation.ts): the CONNECT with
   * every accepted one (current first), the CONNECTACK with the one our CONNECT used, later messages
   * with `receiveSecrets`. The CONNECTACK's nonce completes our session keys here (a forged or replayed
   * one then fails the digest and closes the link).
   */
  private verify(frame: Buffer, m: FailoverMessage): DigestCheck {
    const ring = this.transport.secretRing();
    if (ring === undefined) return checkDigest(frame, undefined);
    if (!hasDigest(frame)) return 'missing';
    if (this.usesSessionKeys && this.nonces === undefined && m.type === 'CONNECTACK' && this.ownNonce !== undefined) {
      const theirs = nonceOf(m, VENDOR_CLASS);
      if (theirs !== undefined) this.nonces = { initiator: this.ownNonce, responder: theirs };
    }
    const now = this.transport.clock.now();
    const candidates = this.secrets === undefined ? acceptedSecrets(ring, now)
      : this.secrets.partnerSigned === undefined ? (labelOf(ring, this.secrets.signing, now) !== undefined ? [this.secrets.signing] : [])
        : receiveSecrets(ring, now, this.secrets);
    const used = candidates.find((s) => verifyMessage(frame, this.keyOf(s)) === 'ok');
    if (used === undefined) return 'bad';
    this.unansweredConnect = undefined;
    if (labelOf(ring, used, now) === 'previous' && !this.previousLogged) {
      this.previousLogged = true;
      log.info('failover.secret.previous_accepted', {
        link: this.id, remote: this.remote, type: m.type, until: ring.previousUntil === undefined ? undefined : new Date(ring.previousUntil).toISOString(),
        why: 'the partner signs with the secret this server had before the last change; accepted until then',
      });
    }
    this.secrets = this.secrets === undefined ? { signing: used, partnerSigned: used } : { ...this.secrets, partnerSigned: used };
    if (this.state === 'established') this.follow(false);
    return 'ok';
  }

  /**
   * Applies the signing rule (secret-rotation.ts signingSecret) after the partner showed something or the
   * ring changed: move to the current secret once the partner has it, close the link when none of its
   * secrets is accepted any more. `announce`: tell the partner at once by signing a CONTACT with it.
   */
  private follow(announce: boolean): void {
    if (this.secrets === undefined || this.state === 'closed') return;
    const ring = this.transport.secretRing();
    const next = signingSecret(ring, this.transport.clock.now(), this.secrets);
    if (next === undefined) {
      const why = 'the link still uses a secret that is no longer accepted (the previous one expired, or a second change replaced it): the partner never showed the current secret';
      this.transport.events.problem('auth', { link: this.id, result: 'secret_expired' });
      log.warn('failover.secret.link_expired', { link: this.id, remote: this.remote, why });
      this.close(why, { send: false });
      return;
    }
    if (next.equals(this.secrets.signing)) return;
    this.secrets = { ...this.secrets, signing: next };
    log.info('failover.secret.link_moved', { link: this.id, remote: this.remote, to: 'current', why: 'the partner has the current secret' });
    if (announce && this.state === 'established') this.send({ type: 'CONTACT' });
  }

  /** The ring changed (a new secret, or the previous one expired): re-judge this link (connection.ts). */
  secretsChanged(): void {
    if (this.state === 'closed' || this.secrets === undefined) return;
    if (this.state === 'handshake') {
      if (labelOf(this.transport.secretRing(), this.secrets.signing, this.transport.clock.now()) === undefined) this.close('handshake under a secret that is no longer accepted', { send: false });
      return;
    }
    this.follow(false);
    const proof = this.proofFields();
    if (this.state === 'established' && proof.vendorOptions !== undefined) this.send({ type: 'CONTACT', ...proof });
  }

  /** 'current' once both directions use the current secret, 'previous' while one still uses the previous one; undefined without a secret. */
  secretInUse(): SecretLabel | undefined {
    return this.secrets === undefined ? undefined : linkSecretLabel(this.transport.secretRing(), this.transport.clock.now(), this.secrets);
  }

  /** The secret this link was made with or moved to (the transport's preference for its next CONNECT). */
  get signingSecret(): Buffer | undefined { return this.secrets?.signing; }

  /** While we sign with an older secret than our current one: the proof that we hold the current one, for a CONTACT. */
  private proofFields(): { vendorOptions?: VendorOption[] } {
    const ring = this.transport.secretRing();
    if (!this.usesSessionKeys || ring === undefined || this.nonces === undefined || this.secrets === undefined || this.secrets.signing.equals(ring.current)) return {};
    const side = this.transport.settings.role === 'primary' ? 'initiator' : 'responder';
    return { vendorOptions: [{ code: SECRET_PROOF_SUBOPTION, data: secretProof(this.keyOf(ring.current), side) }] };
  }

  /**
   * A CONTACT from the partner: reads and removes our secret proof (if the CONTACT carries one); returns
   * the CONTACT with whatever other vendor options it has (none: a keepalive).
   */
  private takeSecretProof<M extends FailoverMessage & { type: 'CONTACT' }>(m: M): M {
    const options = m.vendorOptions ?? [];
    const proofs = options.filter((o) => o.code === SECRET_PROOF_SUBOPTION);
    if (!this.usesSessionKeys || proofs.length === 0) return m;
    const ring = this.transport.secretRing();
    if (ring !== undefined && this.nonces !== undefined && this.secrets !== undefined && !(this.secrets.partnerProved?.equals(ring.current) ?? false)) {
      const theirSide = this.transport.settings.role === 'primary' ? 'responder' : 'initiator';
      const expected = secretProof(this.keyOf(ring.current), theirSide);
      const got = proofs[0]!.data;
      if (got.length === PROOF_SIZE && timingSafeEqual(got, expected)) {
        this.secrets = { ...this.secrets, partnerProved: ring.current };
        this.follow(true);
      } else {
        log.debug('failover.secret.proof_unmatched', { link: this.id, why: 'the partner holds a secret that is not our current one (it may be ahead of us)' });
      }
    }
    const rest = options.filter((o) => o.code !== SECRET_PROOF_SUBOPTION);
    const { vendorOptions: _, ...bare } = m;
    return (rest.length > 0 ? { ...bare, vendorOptions: rest } : bare) as M;
  }

  /** Our nonce for a CONNECT or CONNECTACK, with the vendor class that makes it readable. */
  private nonceFields(): { vendorClassIdentifier?: string; vendorOptions?: ReturnType<typeof nonceOptions> } {
    return this.ownNonce === undefined ? {} : { vendorClassIdentifier: VENDOR_CLASS, vendorOptions: nonceOptions(this.ownNonce) };
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

  private skewOf(m: FailoverMessage): number { return Math.floor(this.transport.clock.now() / 1000) - m.time; }

  private handshake(m: FailoverMessage): void {
    const s = this.transport.settings;
    if (s.role === 'secondary') {
      if (m.type !== 'CONNECT') throw new DecodeError('expected_connect', `${m.type} before CONNECT`);
      const reject = (reason: number, why: string, kind: 'skew' | 'rejected' = 'rejected'): void => {
        this.transport.events.problem(kind, { link: this.id, reason, why });
        log.warn('failover.connect.rejected', { link: this.id, remote: this.remote, rejectReason: reason, why });
        this.send({ type: 'CONNECTACK', relationshipName: s.relationship, protocolVersion: 1, rejectReason: reason, message: why.slice(0, 200), ...this.nonceFields() }, m.xid);
        this.close(`rejected CONNECT: ${why}`, { send: false });
      };
      if (this.usesSessionKeys) {
        const theirs = nonceOf(m, VENDOR_CLASS);
        if (theirs === undefined) {
          // Signed with the secret but without a nonce: a partner without session keys (partnerDialect must be
          // 'self' on both sides), or a CONNECT recorded from one. Refused, and told why.
          this.authFailure(m, 'no_session_nonce', 'CONNECT carries no session nonce');
          reject(ConnectReject.DIGEST_FAILED, 'no session nonce in CONNECT: the partner must be a dhcp-failover-ts server with partnerDialect self');
          return;
        }
        this.ownNonce = newNonce();
        this.nonces = { initiator: theirs, responder: this.ownNonce }; // from here on, even our reject is bound to this CONNECT
      }
      if (m.protocolVersion !== undefined && m.protocolVersion !== 1) { reject(ConnectReject.VERSION_MISMATCH, `protocol version ${m.protocolVersion}`); return; }
      if (m.relationshipName !== s.relationship) { reject(ConnectReject.INVALID_PARTNER, `relationship ${JSON.stringify(m.relationshipName)} is not ${JSON.stringify(s.relationship)}`); return; }
      const skew = this.skewOf(m);
      if (Math.abs(skew) > MAX_SKEW_SECONDS) { reject(ConnectReject.TIME_MISMATCH, `clock skew ${skew} s exceeds ${MAX_SKEW_SECONDS} s; synchronise clocks (NTP)`, 'skew'); return; }
      if (m.mclt === undefined || m.mclt === 0) { reject(ConnectReject.INVALID_MCLT, 'MCLT missing or 0'); return; }
      if (m.hba === undefined) { reject(ConnectReject.HBA_CONFLICT, 'hash-bucket-assignment missing'); return; }
      if (this.transport.hasEstablished()) { reject(ConnectReject.DUPLICATE_CONNECTION, 'already connected'); return; }
      this.send({
        type: 'CONNECTACK', relationshipName: s.relationship, maxUnackedBndupd: s.maxUnacked, receiveTimer: s.receiveTimerSeconds,
        vendorClassIdentifier: VENDOR_CLASS, protocolVersion: 1, ...(m.tlsRequest !== undefined ? { tlsReply: 0 } : {}), ...this.nonceFields(),
      }, m.xid);
      const params: PartnerParams = {
        maxUnacked: m.maxUnackedBndupd ?? 1, receiveTimerSeconds: m.receiveTimer ?? 0,
        mcltSeconds: m.mclt, hba: Buffer.from(m.hba), vendorClass: m.vendorClassIdentifier, skewSeconds: skew,
      };
      if (this.nonces !== undefined) this.confirming = params;
      else this.establish(params);
      return;
    }
    // primary: we sent CONNECT; the only acceptable answer is CONNECTACK.
    if (m.type === 'DISCONNECT') { this.close(`partner refused: reason ${m.rejectReason ?? '?'} ${m.message ?? ''}`, { send: false }); return; }
    if (m.type !== 'CONNECTACK') throw new DecodeError('expected_connectack', `${m.type} before CONNECTACK`);
    if (m.rejectReason !== undefined) {
      this.transport.events.problem(m.rejectReason === ConnectReject.TIME_MISMATCH ? 'skew' : 'rejected', { link: this.id, reason: m.rejectReason, by: 'partner' });
      log.warn('failover.connect.refused_by_partner', { link: this.id, remote: this.remote, rejectReason: m.rejectReason, message: m.message });
      this.close(`partner rejected CONNECT with reason ${m.rejectReason}`, { send: false });
      return;
    }
    const fail = (r: number, why: string, kind: 'skew' | 'rejected' = 'rejected'): void => {
      this.transport.events.problem(kind, { link: this.id, reason: r, why });
      log.warn('failover.connectack.rejected', { link: this.id, remote: this.remote, rejectReason: r, why });
      this.send({ type: 'DISCONNECT', rejectReason: r, message: why.slice(0, 200) });
      this.close(`rejected CONNECTACK: ${why}`, { send: false });
    };
    if (m.relationshipName !== s.relationship) { fail(ConnectReject.INVALID_PARTNER, `relationship ${JSON.stringify(m.relationshipName)} is not ${JSON.stringify(s.relationship)}`); return; }
    const skew = this.skewOf(m);
    if (Math.abs(skew) > MAX_SKEW_SECONDS) { fail(ConnectReject.TIME_MISMATCH, `clock skew ${skew} s exceeds ${MAX_SKEW_SECONDS} s; synchronise clocks (NTP)`, 'skew'); return; }
    if (this.transport.hasEstablished()) { this.close('spare link: already connected', { send: false }); return; }
    if (this.usesSessionKeys && this.nonces === undefined) { // verify found no nonce in it
      this.authFailure(m, 'no_session_nonce', 'CONNECTACK carries no session nonce');
      this.close('no session nonce in CONNECTACK: the partner must be a dhcp-failover-ts server with partnerDialect self', { send: false });
      return;
    }
    this.establish({ maxUnacked: m.maxUnackedBndupd ?? 1, receiveTimerSeconds: m.receiveTimer ?? 0, vendorClass: m.vendorClassIdentifier, skewSeconds: skew });
  }

  /** Primary: the first message on every link (digest §1.4 ISC behaviour). */
  sendConnect(): void {
    const s = this.transport.settings;
    if (this.usesSessionKeys) this.ownNonce = newNonce();
    const secret = this.transport.connectSecret();
    if (secret !== undefined) { this.secrets = { signing: secret }; this.unansweredConnect = secret; }
    this.send({
      type: 'CONNECT', relationshipName: s.relationship, maxUnackedBndupd: s.maxUnacked, receiveTimer: s.receiveTimerSeconds,
      vendorClassIdentifier: VENDOR_CLASS, protocolVersion: 1, tlsRequest: 0, mclt: s.mcltSeconds, hba: Buffer.from(s.hba), ...this.nonceFields(),
    });
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
