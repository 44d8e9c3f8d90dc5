// Replay protection between two of our own servers (partnerDialect 'self' with a shared secret).
// Draft-12 and MS-DHCPF sign every message with the shared secret alone, so a recorded signed message
// verifies on any later link for as long as its header time is within 60 s of ours (D12 §11.1 only
// orders xids within one link). Here every link gets its own key: the CONNECT carries the initiator's
// random nonce, the CONNECTACK the responder's, both as sub-option 1 of vendor-specific-options (29)
// under our vendor class (which draft-12 §12.29 leaves to the vendor), and every message after the
// CONNECT is signed with HMAC-SHA256(secret, label ‖ initiator nonce ‖ responder nonce). A message
// recorded on one link fails the digest on every other; a replayed CONNECT gets a fresh responder
// nonce, so whoever replays it cannot sign what must follow. Pure, apart from newNonce().
import { createHmac, randomBytes } from 'node:crypto';
import type { VendorOption } from '../wire/options.ts';

export const SESSION_NONCE_SUBOPTION = 1;
export const NONCE_SIZE = 16;
const LABEL = Buffer.from('dhcp-failover-ts session key v1', 'ascii');

export function newNonce(): Buffer { return randomBytes(NONCE_SIZE); }

/** The vendor-specific-options value that carries `nonce`. */
export function nonceOptions(nonce: Buffer): VendorOption[] {
  return [{ code: SESSION_NONCE_SUBOPTION, data: nonce }];
}

/**
 * The nonce a CONNECT or CONNECTACK carries, or undefined: only from our own vendor class (another
 * vendor's sub-option 1 means something else), exactly NONCE_SIZE bytes, at most one.
 */
export function nonceOf(m: { readonly vendorClassIdentifier?: string | undefined; readonly vendorOptions?: readonly VendorOption[] | undefined }, vendorClass: string): Buffer | undefined {
  if (m.vendorClassIdentifier !== vendorClass) return undefined;
  const found = (m.vendorOptions ?? []).filter((o) => o.code === SESSION_NONCE_SUBOPTION);
  if (found.length !== 1 || found[0]!.data.length !== NONCE_SIZE) return undefined;
  return found[0]!.data;
}

/** The key that signs everything after the CONNECT on one link. */
export function sessionKey(secret: Buffer, initiatorNonce: Buffer, responderNonce: Buffer): Buffer {
  return createHmac('sha256', secret).update(LABEL).update(initiatorNonce).update(responderNonce).digest();
}

/**
 * Secret rotation (secret-rotation.ts): while a link is still signed with the previous secret, each side
 * that already has the new one says so with this proof, sub-option 2 of vendor-specific-options in a
 * CONTACT. `key` is the link's session key under that secret; `from` binds it to the sender's side, so
 * a proof reflected back to its sender proves nothing. It reveals neither the secret nor the key.
 */
export const SECRET_PROOF_SUBOPTION = 2;
const PROOF_LABEL = Buffer.from('dhcp-failover-ts secret proof v1', 'ascii');
export const PROOF_SIZE = 16;

export function secretProof(key: Buffer, from: 'initiator' | 'responder'): Buffer {
  return createHmac('sha256', key).update(PROOF_LABEL).update(from, 'ascii').digest().subarray(0, PROOF_SIZE);
}
