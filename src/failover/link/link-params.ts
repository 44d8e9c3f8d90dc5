// The parameters of one relationship's links: ours (LinkSettings, built from the failover config by
// runtime/peer-settings.ts; the transport, connection.ts, and each link, link.ts, run with them) and the
// partner's (PartnerParams, what its CONNECT or CONNECTACK told us, derived in handshake.ts).
import type { WireDialect } from '../wire/dialect.ts';

/** Ours: what this server's transport and links are configured with. */
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
