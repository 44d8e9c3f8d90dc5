// The pure choices of a shared-secret rotation (src/failover/link/secret-rotation.ts) and the proof that a
// partner holds the new secret (session-key.ts secretProof).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptedSecrets, afterUnansweredConnect, connectSecret, labelOf, linkSecretLabel, partnerHasCurrent, pruneRing, receiveSecrets,
  ringOf, rotateRing, SECRET_GRACE_MS, signingSecret, type SecretRing,
} from '../../../src/failover/link/secret-rotation.ts';
import { newNonce, PROOF_SIZE, secretProof, sessionKey } from '../../../src/failover/link/session-key.ts';

const OLD = Buffer.from('old-secret'), NEW = Buffer.from('new-secret'), NEWER = Buffer.from('newer-secret'), OTHER = Buffer.from('other');
const T0 = 1_700_000_000_000;
const G = 60_000;
const rotated: SecretRing = { current: NEW, previous: OLD, previousUntil: T0 + G };

describe('secret ring', () => {
  it('a change keeps the previous secret for the grace period; adding, removing or re-reading the same value keeps none', () => {
    assert.deepEqual(rotateRing(ringOf(OLD), NEW, T0, G), rotated);
    assert.equal(rotateRing(undefined, NEW, T0, G)?.previous, undefined, 'secret added: nothing to keep');
    assert.equal(rotateRing(ringOf(OLD), undefined, T0, G), undefined, 'secret removed');
    const same = ringOf(OLD);
    assert.equal(rotateRing(same, Buffer.from('old-secret'), T0, G), same, 'same bytes: unchanged (the grace period is not restarted)');
    assert.equal(rotateRing(rotated, NEW, T0 + 1000, G), rotated);
    assert.equal(rotateRing(ringOf(OLD), NEW, T0, 0)?.previous, undefined, 'grace 0: no previous');
    assert.equal(SECRET_GRACE_MS, 600_000, 'ten minutes: five times the worst kubelet skew between two nodes');
  });

  it('a second change within the grace period forgets the oldest secret', () => {
    const twice = rotateRing(rotated, NEWER, T0 + 1000, G)!;
    assert.deepEqual(acceptedSecrets(twice, T0 + 1000), [NEWER, NEW]);
    assert.equal(labelOf(twice, OLD, T0 + 1000), undefined);
  });

  it('accepts current first, then previous until the grace period ends, then only current', () => {
    assert.deepEqual(acceptedSecrets(rotated, T0), [NEW, OLD]);
    assert.deepEqual(acceptedSecrets(rotated, T0 + G - 1), [NEW, OLD]);
    assert.deepEqual(acceptedSecrets(rotated, T0 + G), [NEW]);
    assert.deepEqual(pruneRing(rotated, T0 + G), { current: NEW });
    assert.equal(labelOf(rotated, OLD, T0), 'previous');
    assert.equal(labelOf(rotated, OLD, T0 + G), undefined);
    assert.equal(labelOf(rotated, NEW, T0 + G), 'current');
    assert.equal(labelOf(rotated, OTHER, T0), undefined, 'a secret we never had');
    assert.deepEqual(acceptedSecrets(undefined, T0), []);
  });
});

describe('initiator: which secret signs the CONNECT', () => {
  it('the last link\'s secret while accepted, else current; after an unanswered CONNECT the other accepted one', () => {
    assert.equal(connectSecret(rotated, T0, undefined), NEW);
    assert.equal(connectSecret(rotated, T0, OLD), OLD, 'the last link was made with the old one: the partner may not have the new one');
    assert.equal(connectSecret(rotated, T0 + G, OLD), NEW, 'expired: never the old one again');
    assert.equal(connectSecret(rotated, T0, OTHER), NEW);
    assert.equal(afterUnansweredConnect(rotated, T0, NEW), OLD);
    assert.equal(afterUnansweredConnect(rotated, T0, OLD), NEW);
    assert.equal(afterUnansweredConnect(rotated, T0 + G, NEW), NEW, 'out of grace: only current');
    assert.equal(connectSecret(undefined, T0, OLD), undefined);
  });
});

describe('a link during a rotation', () => {
  it('keeps signing with the secret it was made with until the partner shows the current one, then moves for good', () => {
    const made = { signing: OLD, partnerSigned: OLD };
    assert.equal(signingSecret(rotated, T0, made), OLD, 'the partner has shown only the old one');
    assert.equal(partnerHasCurrent(rotated, made), false);
    assert.equal(signingSecret(rotated, T0, { ...made, partnerProved: NEW }), NEW, 'proved the new one in a CONTACT');
    assert.equal(signingSecret(rotated, T0, { ...made, partnerSigned: NEW }), NEW, 'signed with the new one');
    assert.equal(signingSecret(rotated, T0, { ...made, partnerProved: OTHER }), OLD, 'a proof of something else changes nothing');
    assert.equal(signingSecret(rotated, T0, { signing: NEW, partnerSigned: OLD, partnerProved: NEW }), NEW, 'in-flight old messages do not move it back');
  });

  it('closes (undefined) when the link\'s secret is no longer accepted: grace over, or replaced twice', () => {
    assert.equal(signingSecret(rotated, T0 + G, { signing: OLD, partnerSigned: OLD }), undefined);
    assert.equal(signingSecret(rotateRing(rotated, NEWER, T0, G), T0, { signing: OLD, partnerSigned: OLD }), undefined);
    assert.equal(signingSecret(rotated, T0 + G, { signing: OLD, partnerSigned: OLD, partnerProved: NEW }), NEW, 'moved in time: fine');
  });

  it('receives current or previous until the partner signs with current; from then on current only, even inside the grace period', () => {
    assert.deepEqual(receiveSecrets(rotated, T0, { partnerSigned: OLD }), [NEW, OLD]);
    assert.deepEqual(receiveSecrets(rotated, T0, {}), [NEW, OLD]);
    assert.deepEqual(receiveSecrets(rotated, T0, { partnerSigned: NEW }), [NEW]);
    assert.deepEqual(receiveSecrets(rotated, T0 + G, { partnerSigned: OLD }), [NEW], 'grace over: the old one is refused');
    assert.deepEqual(receiveSecrets(ringOf(NEW), T0, {}), [NEW], 'no rotation: as before');
  });

  it('reports previous while either direction still uses it, current when both moved', () => {
    assert.equal(linkSecretLabel(rotated, T0, { signing: OLD, partnerSigned: OLD }), 'previous');
    assert.equal(linkSecretLabel(rotated, T0, { signing: NEW, partnerSigned: OLD }), 'previous');
    assert.equal(linkSecretLabel(rotated, T0, { signing: OLD, partnerSigned: NEW }), 'previous');
    assert.equal(linkSecretLabel(rotated, T0, { signing: NEW, partnerSigned: NEW }), 'current');
    assert.equal(linkSecretLabel(ringOf(NEW), T0, { signing: NEW }), 'current');
  });
});

describe('secret proof', () => {
  it('depends on the secret, the link\'s nonces and the sender\'s side; reveals neither key', () => {
    const ni = newNonce(), nr = newNonce();
    const k = sessionKey(NEW, ni, nr);
    const p = secretProof(k, 'initiator');
    assert.equal(p.length, PROOF_SIZE);
    assert.deepEqual(secretProof(sessionKey(NEW, ni, nr), 'initiator'), p);
    assert.notDeepEqual(secretProof(k, 'responder'), p, 'a proof reflected to its sender proves nothing');
    assert.notDeepEqual(secretProof(sessionKey(OLD, ni, nr), 'initiator'), p);
    assert.notDeepEqual(secretProof(sessionKey(NEW, newNonce(), nr), 'initiator'), p, 'bound to the link');
    assert.ok(!p.equals(k.subarray(0, PROOF_SIZE)));
  });
});
