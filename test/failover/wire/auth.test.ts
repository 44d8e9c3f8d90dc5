import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { DIGEST_OPTION_SIZE, DIGEST_TYPE, signMessage, verifyMessage } from '../../../src/failover/wire/auth.ts';
import { decodeFailoverMessage, encodeFailoverMessage } from '../../../src/failover/wire/message.ts';
import { ISC_SAMPLES, MS_SAMPLES } from './samples.ts';
import { plain, rawMessage, u8 } from './helpers.ts';

const SECRET = 'correct horse battery staple';

describe('message digest (HMAC-SHA256, option 17, last)', () => {
  for (const m of [...ISC_SAMPLES.slice(0, 3), MS_SAMPLES[0]!]) {
    it(`${m.type}: signed message verifies and still decodes to the same message`, () => {
      const dialect = m === MS_SAMPLES[0] ? 'ms' : 'isc';
      const plainBytes = encodeFailoverMessage(m, { dialect });
      const signed = encodeFailoverMessage(m, { dialect, secret: SECRET });
      assert.equal(signed.length, plainBytes.length + DIGEST_OPTION_SIZE);
      assert.equal(signed.readUInt16BE(0), signed.length);
      assert.equal(verifyMessage(signed, SECRET), 'ok');
      assert.equal(verifyMessage(signed, Buffer.from(SECRET)), 'ok');
      assert.deepEqual(plain(decodeFailoverMessage(signed)), plain(m));
      assert.equal(verifyMessage(plainBytes, SECRET), 'missing');
    });
  }
  it('covers exactly: the whole message with the 32 digest bytes zeroed, key = UTF-8 secret', () => {
    const signed = signMessage(rawMessage(11, [], { xid: 1, time: 2 }), 'k€y');
    const digestAt = signed.length - 32;
    assert.deepEqual([...signed.subarray(12, 17)], [0, 17, 0, 33, DIGEST_TYPE]);
    const zeroed = Buffer.from(signed); zeroed.fill(0, digestAt);
    const expected = createHmac('sha256', Buffer.from('k€y', 'utf8')).update(zeroed).digest();
    assert.deepEqual(signed.subarray(digestAt), expected);
  });
  it('tampering with any byte (header, options, digest) → bad (missing if the digest code itself changes)', () => {
    const signed = encodeFailoverMessage(ISC_SAMPLES[2]!, { dialect: 'isc', secret: SECRET });
    const digestCodeAt = signed.length - DIGEST_OPTION_SIZE;
    for (let i = 0; i < signed.length; i++) {
      const t = Buffer.from(signed);
      t[i] = t[i]! ^ 0x01;
      const want = i === digestCodeAt || i === digestCodeAt + 1 ? 'missing' : 'bad'; // code 17 became 273 or 16
      assert.equal(verifyMessage(t, SECRET), want, `flipped byte ${i}`);
    }
  });
  it('wrong secret → bad', () => {
    const signed = encodeFailoverMessage(ISC_SAMPLES[0]!, { dialect: 'isc', secret: SECRET });
    assert.equal(verifyMessage(signed, 'wrong'), 'bad');
    assert.equal(verifyMessage(signed, ''), 'bad');
  });
  it('a digest that is not last, of another type or size, or two digests → bad', () => {
    const d = Buffer.concat([u8(DIGEST_TYPE), Buffer.alloc(32)]);
    assert.equal(verifyMessage(rawMessage(10, [[17, d], [24, u8(2)]]), SECRET), 'bad');
    assert.equal(verifyMessage(rawMessage(10, [[17, Buffer.concat([u8(1), Buffer.alloc(16)])]]), SECRET), 'bad');
    assert.equal(verifyMessage(rawMessage(10, [[17, Buffer.concat([u8(DIGEST_TYPE), Buffer.alloc(31)])]]), SECRET), 'bad');
    assert.equal(verifyMessage(rawMessage(10, [[17, d], [17, d]]), SECRET), 'bad');
  });
  it('malformed input → bad, never a throw', () => {
    const signed = encodeFailoverMessage(ISC_SAMPLES[1]!, { dialect: 'isc', secret: SECRET });
    for (let n = 0; n < signed.length; n++) assert.equal(verifyMessage(signed.subarray(0, n), SECRET), 'bad');
    assert.equal(verifyMessage(Buffer.concat([signed, Buffer.alloc(1)]), SECRET), 'bad');
  });
  it('signMessage refuses an already signed message', () => {
    const signed = signMessage(rawMessage(11, []), SECRET);
    assert.throws(() => signMessage(signed, SECRET), /already carries a digest/);
  });
});
