import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NONCE_SIZE, newNonce, nonceOf, nonceOptions, sessionKey, SESSION_NONCE_SUBOPTION } from '../../../src/failover/link/session-key.ts';

const OURS = 'dhcp-failover-ts';

describe('session keys', () => {
  it('reads back the nonce it writes, only under our vendor class', () => {
    const n = newNonce();
    assert.equal(n.length, NONCE_SIZE);
    assert.deepEqual(nonceOf({ vendorClassIdentifier: OURS, vendorOptions: nonceOptions(n) }, OURS), n);
    assert.equal(nonceOf({ vendorClassIdentifier: 'isc', vendorOptions: nonceOptions(n) }, OURS), undefined, 'another vendor\'s sub-option 1 is not our nonce');
    assert.equal(nonceOf({ vendorOptions: nonceOptions(n) }, OURS), undefined);
  });

  it('refuses a nonce of the wrong size, a repeated one, or none', () => {
    const nonce = (data: Buffer) => ({ code: SESSION_NONCE_SUBOPTION, data });
    for (const vendorOptions of [[nonce(Buffer.alloc(15))], [nonce(Buffer.alloc(17))], [nonce(newNonce()), nonce(newNonce())], [{ code: 2, data: newNonce() }], []]) {
      assert.equal(nonceOf({ vendorClassIdentifier: OURS, vendorOptions }, OURS), undefined, JSON.stringify(vendorOptions));
    }
  });

  it('a key depends on the secret and on both nonces in their order', () => {
    const secret = Buffer.from('s3cret');
    const a = newNonce(), b = newNonce();
    const k = sessionKey(secret, a, b);
    assert.equal(k.length, 32);
    assert.deepEqual(sessionKey(secret, a, b), k, 'deterministic');
    assert.notDeepEqual(sessionKey(secret, b, a), k);
    assert.notDeepEqual(sessionKey(secret, a, newNonce()), k, 'a fresh responder nonce gives a fresh key');
    assert.notDeepEqual(sessionKey(Buffer.from('other'), a, b), k);
    assert.notDeepEqual(k, secret);
  });
});
