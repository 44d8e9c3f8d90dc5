// Shared-secret rotation without a refused link (pure). A rotated Kubernetes Secret reaches the two
// servers at different moments (each kubelet swaps its own volume), so for a while each holds another
// value. Instead of refusing each other in between, a server keeps its previous secret for a grace
// period after a change and:
//   - accepts a message that verifies with the current secret, else with the previous one;
//   - signs with the secret its partner is known to hold: a link keeps the secret it was made with
//     until the partner shows it has our current one (it signs with it, or, between our own servers,
//     proves it in a CONTACT, session-key.ts secretProof), then moves to the current one for good;
//   - dials with the secret the last link was made with (if still accepted), the other one after a
//     handshake the partner did not answer.
// When the grace period ends the previous secret is forgotten: a link still on it is closed, and a
// message signed with it is an auth failure like any other. The FailoverTransport (connection.ts) holds
// the ring; each Link (link.ts) applies these choices through its LinkKeys (link-keys.ts).

/**
 * How long the previous secret stays accepted after a change. A Secret volume gets a new value "within
 * the kubelet sync period + the cache propagation delay" (Kubernetes docs): `syncFrequency` is 60 s by
 * default (plus jitter), the cache adds nothing with the default Watch strategy and up to its TTL
 * (about a minute) with TTL. So two nodes may see a new value up to about 2 minutes apart, and our
 * file watcher adds at most its 10 s poll. Ten minutes is five times that, also covers a pod restarted
 * in the middle, and still bounds how long a leaked old secret keeps working.
 */
export const SECRET_GRACE_MS = 10 * 60_000;

export type SecretLabel = 'current' | 'previous';

export interface SecretRing {
  readonly current: Buffer;
  /** The secret before the last change, accepted until `previousUntil` (ms since the epoch). */
  readonly previous?: Buffer | undefined;
  readonly previousUntil?: number | undefined;
}

export function ringOf(secret: Buffer | undefined): SecretRing | undefined {
  return secret === undefined ? undefined : { current: secret };
}

/**
 * The ring after the configured secret became `next`. Only a change from one secret to another keeps
 * the old one (adding or removing authentication cannot be seamless: one side signs, the other refuses
 * digests); a second change within the grace period forgets the oldest.
 */
export function rotateRing(ring: SecretRing | undefined, next: Buffer | undefined, now: number, graceMs: number = SECRET_GRACE_MS): SecretRing | undefined {
  if (next === undefined || ring === undefined) return ringOf(next);
  if (ring.current.equals(next)) return ring;
  return graceMs > 0 ? { current: next, previous: ring.current, previousUntil: now + graceMs } : { current: next };
}

/** The ring without a previous secret whose grace period is over. */
export function pruneRing(ring: SecretRing | undefined, now: number): SecretRing | undefined {
  if (ring?.previous === undefined || (ring.previousUntil ?? 0) > now) return ring;
  return { current: ring.current };
}

/** The secrets a message may verify with, current first. */
export function acceptedSecrets(ring: SecretRing | undefined, now: number): Buffer[] {
  const r = pruneRing(ring, now);
  if (r === undefined) return [];
  return r.previous === undefined ? [r.current] : [r.current, r.previous];
}

export function labelOf(ring: SecretRing | undefined, secret: Buffer | undefined, now: number): SecretLabel | undefined {
  const r = pruneRing(ring, now);
  if (r === undefined || secret === undefined) return undefined;
  if (r.current.equals(secret)) return 'current';
  return r.previous?.equals(secret) ? 'previous' : undefined;
}

const isAccepted = (ring: SecretRing | undefined, s: Buffer | undefined, now: number): boolean => labelOf(ring, s, now) !== undefined;

/** Initiator: the secret to sign a CONNECT with: the preferred one (the last link's) while accepted, else the current one. */
export function connectSecret(ring: SecretRing | undefined, now: number, preferred: Buffer | undefined): Buffer | undefined {
  if (ring === undefined) return undefined;
  return preferred !== undefined && isAccepted(ring, preferred, now) ? preferred : ring.current;
}

/** Initiator: the preference after a CONNECT signed with `used` got no verified answer: the other accepted secret. */
export function afterUnansweredConnect(ring: SecretRing | undefined, now: number, used: Buffer): Buffer | undefined {
  const all = acceptedSecrets(ring, now);
  const i = all.findIndex((s) => s.equals(used));
  return all.length === 0 ? undefined : all[(i + 1) % all.length];
}

/** What one link knows about the secrets in use on it. */
export interface LinkSecrets {
  /** The secret we sign with (the handshake's, until the partner shows it has our current one). */
  readonly signing: Buffer;
  /** The secret the partner's last verified message was signed with (undefined before its first). */
  readonly partnerSigned?: Buffer | undefined;
  /** A secret the partner proved it holds (secretProof in a CONTACT, our own servers only). */
  readonly partnerProved?: Buffer | undefined;
}

/** True once the partner has shown it holds our current secret on this link. */
export function partnerHasCurrent(ring: SecretRing | undefined, link: LinkSecrets): boolean {
  if (ring === undefined) return false;
  return (link.partnerSigned?.equals(ring.current) ?? false) || (link.partnerProved?.equals(ring.current) ?? false);
}

/**
 * The secret to sign with on an established link: the current one once the partner has shown it has
 * it, else the one the link already uses while that is still accepted; undefined = none is (the
 * previous secret expired, or a second change forgot it): the link must close.
 */
export function signingSecret(ring: SecretRing | undefined, now: number, link: LinkSecrets): Buffer | undefined {
  if (ring === undefined) return undefined;
  if (partnerHasCurrent(ring, link)) return ring.current;
  return isAccepted(ring, link.signing, now) ? link.signing : undefined;
}

/**
 * The secrets the partner's next message may be signed with on a link. Once it signed with the current
 * one it never goes back (it only moves forward), so from then on the previous secret is refused on
 * that link even inside the grace period: whoever holds only the old secret cannot slip messages in.
 */
export function receiveSecrets(ring: SecretRing | undefined, now: number, link: Pick<LinkSecrets, 'partnerSigned'>): Buffer[] {
  if (ring === undefined) return [];
  if (link.partnerSigned?.equals(ring.current)) return [ring.current];
  return acceptedSecrets(ring, now);
}

/** For /status and the gauge: 'previous' while either direction of the link still uses the previous secret. */
export function linkSecretLabel(ring: SecretRing | undefined, now: number, link: LinkSecrets): SecretLabel | undefined {
  const sending = labelOf(ring, link.signing, now);
  const receiving = link.partnerSigned === undefined ? sending : labelOf(ring, link.partnerSigned, now);
  if (sending === undefined || receiving === undefined) return undefined;
  return sending === 'current' && receiving === 'current' ? 'current' : 'previous';
}
