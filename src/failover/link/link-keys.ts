// What one link signs and verifies messages with (no sockets, no timers, no logs; link.ts acts on the
// answers): the secret each direction uses while a secret rotation is under way (the rules are
// secret-rotation.ts's), and between two of our own servers the session nonces, the session key
// derived under each secret and the secret proofs carried in CONTACT (session-key.ts).
import { timingSafeEqual } from 'node:crypto';
import { VENDOR_CLASS } from './handshake.ts';
import { acceptedSecrets, labelOf, linkSecretLabel, receiveSecrets, signingSecret, type LinkSecrets, type SecretLabel, type SecretRing } from './secret-rotation.ts';
import { newNonce, nonceOf, PROOF_SIZE, SECRET_PROOF_SUBOPTION, secretProof, sessionKey } from './session-key.ts';
import { hasDigest, verifyMessage } from '../wire/auth.ts';
import type { Connect, Connectack, FailoverMessage } from '../wire/message.ts';
import type { VendorOption } from '../wire/options.ts';

export type DigestCheck = 'ok' | 'missing' | 'bad' | 'unexpected';

/** With a secret: the digest must be present, last, and verify. Without: none may be present (D12 reason 13). */
export function checkDigest(frame: Buffer, secret: Buffer | undefined): DigestCheck {
  if (secret === undefined) return hasDigest(frame) ? 'unexpected' : 'ok';
  return verifyMessage(frame, secret);
}

/** A CONTACT's secret proof (the first, if several) and the CONTACT without any, keeping its other vendor options. */
export function splitSecretProof<M extends { readonly vendorOptions?: readonly VendorOption[] | undefined }>(m: M): { proof: Buffer | undefined; rest: M } {
  const options = m.vendorOptions ?? [];
  const proof = options.find((o) => o.code === SECRET_PROOF_SUBOPTION)?.data;
  const others = options.filter((o) => o.code !== SECRET_PROOF_SUBOPTION);
  const { vendorOptions: _, ...bare } = m;
  return { proof, rest: (others.length > 0 ? { ...bare, vendorOptions: others } : bare) as M };
}

type Role = 'primary' | 'secondary';
/** The primary sends CONNECT, so it is the initiator of every link's session key. */
const sideOf = (role: Role): 'initiator' | 'responder' => role === 'primary' ? 'initiator' : 'responder';
const partnerSideOf = (role: Role): 'initiator' | 'responder' => role === 'primary' ? 'responder' : 'initiator';

/** The keys of one link. */
export class LinkKeys {
  /** Our nonce on this link (session keys only). */
  private ownNonce: Buffer | undefined;
  /** Both nonces, once the handshake has them: from then on every message is signed with a key derived from them. */
  private nonces: { readonly initiator: Buffer; readonly responder: Buffer } | undefined;
  /** Session keys by the secret they come from (current and previous during a rotation). */
  private readonly sessionKeys = new Map<Buffer, Buffer>();
  /** Which secrets this link signs and verifies with; undefined without a secret or before the handshake. */
  private secrets: LinkSecrets | undefined;

  /** Our nonce for a CONNECT or CONNECTACK; undefined without session keys. */
  get nonce(): Buffer | undefined { return this.ownNonce; }
  /** True once both nonces are known: the link signs with its session key. */
  get hasSessionKey(): boolean { return this.nonces !== undefined; }
  /** The secret this link was made with or moved to; undefined without a secret or before the handshake. */
  get signingSecret(): Buffer | undefined { return this.secrets?.signing; }

  /** Initiator: our CONNECT is signed with `secret`; with session keys it carries a fresh nonce. */
  startConnect(secret: Buffer | undefined, withSessionKeys: boolean): void {
    if (withSessionKeys) this.ownNonce = newNonce();
    if (secret !== undefined) this.secrets = { signing: secret };
  }

  /**
   * Responder: the initiator's nonce from its CONNECT, answered with ours; from here on even our reject
   * is bound to this CONNECT. False: the CONNECT carries no nonce.
   */
  answerConnectNonce(m: Connect): boolean {
    const initiator = nonceOf(m, VENDOR_CLASS);
    if (initiator === undefined) return false;
    this.ownNonce = newNonce();
    this.nonces = { initiator, responder: this.ownNonce };
    return true;
  }


  /** The key our next message is signed with: the link's signing secret (or its session key), else the current secret. */
  signingKey(ring: SecretRing | undefined): Buffer | undefined {
    if (ring === undefined) return undefined; // no secret (any more): nothing is signed
    return this.keyOf(this.secrets?.signing ?? ring.current);
  }

  /**
   * Checks `m`'s digest against the secrets it may be signed with (secret-rotation.ts): the CONNECT with
   * every accepted one (current first), the CONNECTACK with the one our CONNECT used, later messages
   * with `receiveSecrets`. With session keys, the CONNECTACK's nonce completes them here (a forged or
   * replayed one then fails the digest). `used`: the secret that verified, now the partner's.
   */
  verify(frame: Buffer, m: FailoverMessage, ring: SecretRing | undefined, now: number, withSessionKeys: boolean): { result: DigestCheck; used?: Buffer } {
    if (ring === undefined) return { result: checkDigest(frame, undefined) };
    if (!hasDigest(frame)) return { result: 'missing' };
    if (withSessionKeys && m.type === 'CONNECTACK') this.takeResponderNonce(m);
    const candidates = this.secrets === undefined ? acceptedSecrets(ring, now)
      : this.secrets.partnerSigned === undefined ? (labelOf(ring, this.secrets.signing, now) !== undefined ? [this.secrets.signing] : [])
        : receiveSecrets(ring, now, this.secrets);
    const used = candidates.find((s) => verifyMessage(frame, this.keyOf(s)) === 'ok');
    if (used === undefined) return { result: 'bad' };
    this.secrets = this.secrets === undefined ? { signing: used, partnerSigned: used } : { ...this.secrets, partnerSigned: used };
    return { result: 'ok', used };
  }

  /**
   * Applies the signing rule (secret-rotation.ts signingSecret): 'moved' to the current secret once the
   * partner has it, 'kept', or 'expired' when none of the link's secrets is accepted any more.
   */
  follow(ring: SecretRing | undefined, now: number): 'moved' | 'kept' | 'expired' {
    if (this.secrets === undefined) return 'kept';
    const next = signingSecret(ring, now, this.secrets);
    if (next === undefined) return 'expired';
    if (next.equals(this.secrets.signing)) return 'kept';
    this.secrets = { ...this.secrets, signing: next };
    return 'moved';
  }

  /** 'current' once both directions use the current secret, 'previous' while one still uses the previous one. */
  label(ring: SecretRing | undefined, now: number): SecretLabel | undefined {
    return this.secrets === undefined ? undefined : linkSecretLabel(ring, now, this.secrets);
  }

  /** While we sign with an older secret than our current one: the vendor option proving that we hold the current one. */
  secretProofOptions(ring: SecretRing | undefined, role: Role): VendorOption[] | undefined {
    if (ring === undefined || this.nonces === undefined || this.secrets === undefined || this.secrets.signing.equals(ring.current)) return undefined;
    return [{ code: SECRET_PROOF_SUBOPTION, data: secretProof(this.keyOf(ring.current), sideOf(role)) }];
  }

  /** The partner's secret proof `got`: 'proved' it holds our current secret, 'unmatched', or 'ignored' (already proved, or nothing to check it with). */
  takeSecretProof(got: Buffer, ring: SecretRing | undefined, role: Role): 'proved' | 'unmatched' | 'ignored' {
    if (ring === undefined || this.nonces === undefined || this.secrets === undefined || (this.secrets.partnerProved?.equals(ring.current) ?? false)) return 'ignored';
    const expected = secretProof(this.keyOf(ring.current), partnerSideOf(role));
    if (got.length !== PROOF_SIZE || !timingSafeEqual(got, expected)) return 'unmatched';
    this.secrets = { ...this.secrets, partnerProved: ring.current };
    return 'proved';
  }

  /** Initiator: the nonce in a CONNECTACK completes the session keys. */
  private takeResponderNonce(m: Connectack): void {
    if (this.nonces !== undefined || this.ownNonce === undefined) return;
    const theirs = nonceOf(m, VENDOR_CLASS);
    if (theirs !== undefined) this.nonces = { initiator: this.ownNonce, responder: theirs };
  }

  /** `secret` itself before both nonces are known (or without session keys), else this link's session key under it. */
  private keyOf(secret: Buffer): Buffer {
    if (this.nonces === undefined) return secret;
    let key = this.sessionKeys.get(secret);
    if (key === undefined) {
      key = sessionKey(secret, this.nonces.initiator, this.nonces.responder);
      this.sessionKeys.set(secret, key);
    }
    return key;
  }
}
