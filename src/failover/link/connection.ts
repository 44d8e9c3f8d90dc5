// The failover TCP transport for one relationship (digest §1): listen on our address (a listener
// shared with the server's other relationships there, listener.ts) and dial the partner's (both sides,
// as ISC does), cap and evict inbound sockets (CVE-2016-2774), keep one established link and re-dial
// with backoff when it goes. What happens on a link (framing, digest,
// handshake, keepalive) is link.ts's business; what the messages mean is peer.ts's.
import net from 'node:net';
import type { Clock } from '../../clock.ts';
import { log } from '../../log.ts';
import { ConnectReject } from './handshake.ts';
import type { LinkSettings, PartnerParams } from './link-params.ts';
import { Link, type LinkOwner, type TransportEvents } from './link.ts';
import { FailoverListeners, MAX_INBOUND_SOCKETS, type ListenerClaim } from './listener.ts';
import { afterUnansweredConnect, connectSecret, pruneRing, ringOf, rotateRing, SECRET_GRACE_MS, type SecretLabel, type SecretRing } from './secret-rotation.ts';

/** A handshake this young defers our own dial; an older one is presumed stuck. */
const HANDSHAKE_GRACE_MS = 2_000;

/** Listener + dialer for one relationship. */
export class FailoverTransport implements LinkOwner {
  /** Replaced by relink(); links read it when they send or check a message. */
  settings: LinkSettings;
  readonly clock: Clock;
  readonly events: TransportEvents;
  private readonly listeners: FailoverListeners;
  private claim: ListenerClaim | undefined;
  private readonly links = new Set<Link>();
  private established: Link | undefined;
  private dialTimer: { cancel(): void } | undefined;
  private dialing = false;
  private backoff: number;
  private stopped = false;
  /** The shared secret and, for SECRET_GRACE_MS after a change, the one before it (secret-rotation.ts). */
  private ring: SecretRing | undefined;
  /** The secret the next CONNECT is signed with: the last link's, or the other one after an unanswered CONNECT. */
  private preferredSecret: Buffer | undefined;
  private graceTimer: { cancel(): void } | undefined;

  /** `listeners`: the server's shared failover listeners; without, this transport listens on its own. */
  constructor(settings: LinkSettings, clock: Clock, events: TransportEvents, listeners: FailoverListeners = new FailoverListeners()) {
    this.settings = settings;
    this.listeners = listeners;
    this.clock = clock;
    this.events = events;
    this.backoff = settings.backoffMs?.min ?? 1000;
    this.ring = ringOf(settings.secret);
  }

  get current(): Link | undefined { return this.established; }
  hasEstablished(): boolean { return this.established !== undefined && this.established.state === 'established'; }

  /** Listens, then dials; a port that is taken or not permitted rejects with a BindError. */
  async start(): Promise<void> {
    const { localAddress: address, localPort: port } = this.settings;
    this.claim = await this.listeners.claim(address, port, this.settings.partnerAddress, (socket) => this.accept(socket), `failover.port (relationship ${this.settings.relationship})`);
    log.info('failover.listening', { address, port, relationship: this.settings.relationship });
    this.scheduleDial(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.dialTimer?.cancel();
    this.graceTimer?.cancel();
    for (const l of [...this.links]) l.close('shutting down', { rejectReason: ConnectReject.UNKNOWN });
    await this.claim?.release();
    this.claim = undefined;
  }

  /**
   * New link settings (secret, MCLT, HBA, timers; never the addresses or ports we listen on): every
   * link is closed with a DISCONNECT and re-established under them, so the partner sees the new CONNECT.
   */
  relink(settings: LinkSettings): void {
    this.settings = settings;
    this.setSecret(settings.secret);
    this.backoff = settings.backoffMs?.min ?? 1000;
    for (const l of [...this.links]) l.close('configuration changed', { rejectReason: ConnectReject.UNKNOWN });
    this.scheduleDial(0);
  }

  /**
   * A new shared secret (one secret replaced by another, nothing else of the link changed): no link is
   * closed. The previous secret stays accepted for the grace period; each link moves to the new one once
   * the partner shows it has it (secret-rotation.ts, link.ts).
   */
  rotateSecret(settings: LinkSettings): void {
    this.settings = settings;
    this.setSecret(settings.secret);
    for (const l of [...this.links]) l.secretsChanged();
  }

  private setSecret(secret: Buffer | undefined): void {
    const now = this.clock.now();
    const before = this.secretRing();
    this.ring = rotateRing(before, secret, now, this.settings.secretGraceMs ?? SECRET_GRACE_MS);
    if (this.ring === before) return;
    this.graceTimer?.cancel();
    this.graceTimer = undefined;
    const until = this.ring?.previousUntil;
    if (until === undefined) return;
    log.info('failover.secret.previous_kept', { relationship: this.settings.relationship, until: new Date(until).toISOString(), why: 'links keep working while the partner has not read the new secret yet' });
    this.graceTimer = this.clock.setTimer(Math.max(1, until - now), () => {
      this.graceTimer = undefined;
      this.ring = pruneRing(this.ring, this.clock.now());
      log.info('failover.secret.previous_expired', { relationship: this.settings.relationship, links: this.links.size });
      for (const l of [...this.links]) l.secretsChanged();
    });
  }

  secretRing(): SecretRing | undefined {
    this.ring = pruneRing(this.ring, this.clock.now());
    return this.ring;
  }

  connectSecret(): Buffer | undefined { return connectSecret(this.secretRing(), this.clock.now(), this.preferredSecret); }

  /** For /status: which secret the established link uses, and until when the previous one is accepted. */
  secretStatus(): { link: SecretLabel | undefined; previousUntil: number | undefined } | undefined {
    const ring = this.secretRing();
    if (ring === undefined) return undefined;
    return { link: this.hasEstablished() ? this.established?.secretInUse() : undefined, previousUntil: ring.previousUntil };
  }

  private accept(socket: net.Socket): void {
    const remote = socket.remoteAddress?.replace(/^::ffff:/, '');
    const why = this.stopped ? 'stopping'
      : remote !== this.settings.partnerAddress ? 'not the partner address'
        : !this.roomForInbound(remote) ? 'too many inbound connections' : undefined;
    if (why !== undefined) {
      this.events.problem('refused', { remote, why });
      log.warn('failover.listen.refused', { remote, why });
      socket.destroy();
      return;
    }
    this.adopt(socket, true);
  }

  /**
   * Room for one more inbound socket from the partner's address. When all slots hold sockets that never
   * completed a handshake (a restarted partner's leftovers, or someone holding them open, CVE-2016-2774),
   * the oldest of them is evicted: holding sockets cannot lock the real partner out.
   */
  private roomForInbound(remote: string | undefined): boolean {
    const inbound = [...this.links].filter((l) => l.inbound);
    if (inbound.length < MAX_INBOUND_SOCKETS) return true;
    const stale = inbound.filter((l) => l.state !== 'established').sort((a, b) => a.openedAt - b.openedAt)[0];
    if (stale === undefined) return false;
    this.events.problem('refused', { remote, why: 'evicted: a newer connection from the partner address' });
    stale.close('evicted by a newer connection from the partner address', { send: false });
    return true;
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
    // A link in handshake is given its chance first (fewer duplicate-link rejects), but only a young
    // one: sockets that sit silent in handshake must not stop us dialling the partner ourselves.
    const now = this.clock.now();
    if ([...this.links].some((l) => l.state !== 'established' && now - l.openedAt < HANDSHAKE_GRACE_MS)) { this.scheduleDial(this.backoff); return; }
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
    this.preferredSecret = link.signingSecret;
    this.backoff = this.settings.backoffMs?.min ?? 1000;
    for (const other of this.links) if (other !== link && other.state === 'established') other.close('duplicate link', { send: false });
    this.events.established(link, params);
  }

  onLinkClosed(link: Link, reason: string, wasEstablished: boolean): void {
    this.links.delete(link);
    const wasCurrent = this.established === link;
    if (wasCurrent) this.established = undefined;
    // Our CONNECT got no verified answer: the partner may hold only our other accepted secret (a rotation).
    if (!wasEstablished && link.unansweredConnect !== undefined) this.preferredSecret = afterUnansweredConnect(this.secretRing(), this.clock.now(), link.unansweredConnect);
    else if (wasEstablished && link.signingSecret !== undefined) this.preferredSecret = link.signingSecret; // where the link ended up
    log.info('failover.link.closed', { link: link.id, reason, established: wasEstablished });
    this.events.closed(link, reason, wasCurrent);
    if (!wasEstablished) this.backoff = Math.min(this.backoff * 2, this.settings.backoffMs?.max ?? 10_000);
    if (!this.hasEstablished()) this.scheduleDial(this.backoff);
  }
}
