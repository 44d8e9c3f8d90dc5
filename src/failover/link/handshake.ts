// The CONNECT/CONNECTACK handshake as pure decisions (digest §1.5, §1.11): the CONNECT and CONNECTACK
// we send, the checks on the partner's (in draft order, with the reject reason each failure gets),
// the clock-skew limit, and what the handshake learns about the partner (PartnerParams, link-params.ts).
// Link (link.ts) sends, logs, counts and closes; session nonces are session-key.ts's.
import type { LinkSettings, PartnerParams } from './link-params.ts';
import { nonceOptions } from './session-key.ts';
import type { Connect, Connectack } from '../wire/message.ts';
import { REJECT_REASONS, type VendorOption } from '../wire/options.ts';

/** ISC refuses CONNECT/CONNECTACK beyond 60 s of clock difference (digest §1.11, invariant 27). */
export const MAX_SKEW_SECONDS = 60;
/** ISC closes a link whose handshake has not finished in 15 s (digest §1.4). */
export const HANDSHAKE_TIMEOUT_MS = 15_000;
export const VENDOR_CLASS = 'dhcp-failover-ts';
/** Reject reasons the link itself uses (digest §3.2). */
export const ConnectReject = {
  TIME_MISMATCH: REJECT_REASONS.TIME_MISMATCH, INVALID_MCLT: REJECT_REASONS.INVALID_MCLT, UNKNOWN: REJECT_REASONS.UNKNOWN,
  DUPLICATE_CONNECTION: REJECT_REASONS.DUPLICATE_CONNECTION, INVALID_PARTNER: REJECT_REASONS.INVALID_PARTNER,
  VERSION_MISMATCH: REJECT_REASONS.VERSION_MISMATCH, NO_TRAFFIC: REJECT_REASONS.NO_TRAFFIC, HBA_CONFLICT: REJECT_REASONS.HBA_CONFLICT,
  DIGEST_FAILED: REJECT_REASONS.DIGEST_FAILED,
} as const;

/** What we advertise in the handshake. */
type HandshakeSettings = Pick<LinkSettings, 'relationship' | 'maxUnacked' | 'receiveTimerSeconds' | 'mcltSeconds' | 'hba'> & Partial<Pick<LinkSettings, 'dialect'>>;

/** Why the partner's CONNECT or CONNECTACK is refused: the reject reason sent, and the kind of problem counted. */
export interface HandshakeRejection {
  readonly reason: number;
  readonly why: string;
  readonly kind: 'skew' | 'rejected';
}

type Unsent<M> = Omit<M, 'time' | 'xid' | 'skipped'>;

/** Our clock minus the partner's header time, in seconds. */
export function skewSecondsOf(headerTime: number, nowMs: number): number { return Math.floor(nowMs / 1000) - headerTime; }

/** Why the clocks are too far apart for a link (on the handshake and on every later message), or undefined. */
export function clockSkewProblem(skewSeconds: number): string | undefined {
  return Math.abs(skewSeconds) > MAX_SKEW_SECONDS ? `clock skew ${skewSeconds} s exceeds ${MAX_SKEW_SECONDS} s; synchronise clocks (NTP)` : undefined;
}

/** Secondary: the reason to reject a CONNECT, checked in draft order after its digest (D12 §7.8.2); undefined = accept. */
export function checkConnect(m: Connect, o: { relationship: string; skewSeconds: number; alreadyConnected: boolean }): HandshakeRejection | undefined {
  if (m.protocolVersion !== undefined && m.protocolVersion !== 1) return rejected(ConnectReject.VERSION_MISMATCH, `protocol version ${m.protocolVersion}`);
  const partner = checkPartner(m, o);
  if (partner !== undefined) return partner;
  if (m.mclt === undefined || m.mclt === 0) return rejected(ConnectReject.INVALID_MCLT, 'MCLT missing or 0');
  if (m.hba === undefined) return rejected(ConnectReject.HBA_CONFLICT, 'hash-bucket-assignment missing');
  if (o.alreadyConnected) return rejected(ConnectReject.DUPLICATE_CONNECTION, 'already connected');
  return undefined;
}

/** Primary: the reason to answer an accepting CONNECTACK with DISCONNECT; undefined = accept. */
export function checkConnectack(m: Connectack, o: { relationship: string; skewSeconds: number }): HandshakeRejection | undefined {
  return checkPartner(m, o);
}

/** Relationship name, then clock skew: the checks both sides make. */
function checkPartner(m: Connect | Connectack, o: { relationship: string; skewSeconds: number }): HandshakeRejection | undefined {
  if (m.relationshipName !== o.relationship) return rejected(ConnectReject.INVALID_PARTNER, `relationship ${JSON.stringify(m.relationshipName)} is not ${JSON.stringify(o.relationship)}`);
  const skew = clockSkewProblem(o.skewSeconds);
  return skew === undefined ? undefined : { reason: ConnectReject.TIME_MISMATCH, why: skew, kind: 'skew' };
}

function rejected(reason: number, why: string): HandshakeRejection { return { reason, why, kind: 'rejected' }; }

/**
 * Primary: the first message on every link (digest §1.4 ISC behaviour); `ownNonce` with session keys.
 * TLS-request = 0 (no TLS) as ISC sends it, except to Microsoft, whose CONNECT must not carry it (digest §1.4, MS-DHCPF 3.2.7.1).
 */
export function connectMessage(s: HandshakeSettings, ownNonce: Buffer | undefined): Unsent<Connect> {
  return {
    type: 'CONNECT', relationshipName: s.relationship, maxUnackedBndupd: s.maxUnacked, receiveTimer: s.receiveTimerSeconds,
    vendorClassIdentifier: VENDOR_CLASS, protocolVersion: 1, ...(s.dialect === 'ms' ? {} : { tlsRequest: 0 }), mclt: s.mcltSeconds, hba: Buffer.from(s.hba), ...nonceFields(ownNonce),
  };
}

/** Secondary: the CONNECTACK that accepts `connect` (a TLS-reply of 0 only if it asked for TLS). */
export function acceptingConnectack(s: HandshakeSettings, connect: Connect, ownNonce: Buffer | undefined): Unsent<Connectack> {
  return {
    type: 'CONNECTACK', relationshipName: s.relationship, maxUnackedBndupd: s.maxUnacked, receiveTimer: s.receiveTimerSeconds,
    vendorClassIdentifier: VENDOR_CLASS, protocolVersion: 1, ...(connect.tlsRequest !== undefined ? { tlsReply: 0 } : {}), ...nonceFields(ownNonce),
  };
}

/** Secondary: the CONNECTACK that rejects a CONNECT, with the reason and why. */
export function rejectingConnectack(s: Pick<HandshakeSettings, 'relationship'>, r: HandshakeRejection, ownNonce: Buffer | undefined): Unsent<Connectack> {
  return { type: 'CONNECTACK', relationshipName: s.relationship, protocolVersion: 1, rejectReason: r.reason, message: r.why.slice(0, 200), ...nonceFields(ownNonce) };
}

/** Our nonce for a CONNECT or CONNECTACK, with the vendor class that makes it readable. */
function nonceFields(ownNonce: Buffer | undefined): { vendorClassIdentifier?: string; vendorOptions?: VendorOption[] } {
  return ownNonce === undefined ? {} : { vendorClassIdentifier: VENDOR_CLASS, vendorOptions: nonceOptions(ownNonce) };
}

/** Secondary: the partner as an accepted CONNECT describes it (MCLT and HBA adopted). */
export function partnerParamsFromConnect(m: Connect, skewSeconds: number): PartnerParams {
  return {
    maxUnacked: m.maxUnackedBndupd ?? 1, receiveTimerSeconds: m.receiveTimer ?? 0,
    mcltSeconds: m.mclt, hba: m.hba === undefined ? undefined : Buffer.from(m.hba), vendorClass: m.vendorClassIdentifier, skewSeconds,
  };
}

/** Primary: the partner as an accepted CONNECTACK describes it. */
export function partnerParamsFromConnectack(m: Connectack, skewSeconds: number): PartnerParams {
  return { maxUnacked: m.maxUnackedBndupd ?? 1, receiveTimerSeconds: m.receiveTimer ?? 0, vendorClass: m.vendorClassIdentifier, skewSeconds };
}
