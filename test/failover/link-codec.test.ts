import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError } from '../../src/errors.ts';
import { checkDigest, decodeMessage, encodeMessage, FrameReader, MessageType, Opt, text, u32 } from '../../src/failover/link-codec.ts';

const msg = { type: MessageType.CONNECT, time: 1_700_000_000, xid: 7, options: [text(Opt.RELATIONSHIP, 'lab'), u32(Opt.MCLT, 600)] };

describe('link-codec (local adapter until wire/ lands)', () => {
  it('round-trips, with the 12-byte header and payload offset 12', () => {
    const buf = encodeMessage(msg);
    assert.equal(buf.readUInt16BE(0), buf.length);
    assert.equal(buf[3], 12);
    assert.deepEqual(decodeMessage(buf), msg);
  });

  it('frames whole and byte by byte', () => {
    const a = encodeMessage(msg), b = encodeMessage({ ...msg, xid: 8 });
    const all = Buffer.concat([a, b]);
    assert.deepEqual(new FrameReader().push(all), [a, b]);
    const r = new FrameReader();
    const out: Buffer[] = [];
    for (const byte of all) out.push(...r.push(Buffer.from([byte])));
    assert.deepEqual(out, [a, b]);
  });

  it('rejects lengths outside 12..2048 and truncated options', () => {
    assert.throws(() => new FrameReader().push(Buffer.from([0, 5, 0])), DecodeError);
    assert.throws(() => new FrameReader().push(Buffer.from([0x08, 0x01])), DecodeError);
    const buf = encodeMessage(msg);
    buf.writeUInt16BE(200, 14); // relationship option length past the end
    assert.throws(() => decodeMessage(buf), DecodeError);
    for (let cut = 0; cut < buf.length; cut++) {
      try { decodeMessage(buf.subarray(0, cut)); } catch (e) { assert.ok(e instanceof DecodeError); }
    }
  });

  it('digest: verifies, detects tampering, a missing digest and a wrong key', () => {
    const key = Buffer.from('s3cret');
    const buf = encodeMessage(msg, key);
    assert.equal(checkDigest(buf, decodeMessage(buf), key), 'ok');
    const tampered = Buffer.from(buf); tampered.writeUInt8(tampered.readUInt8(20) ^ 1, 20);
    assert.equal(checkDigest(tampered, decodeMessage(tampered), key), 'bad');
    assert.equal(checkDigest(buf, decodeMessage(buf), Buffer.from('other')), 'bad');
    const plain = encodeMessage(msg);
    assert.equal(checkDigest(plain, decodeMessage(plain), key), 'missing');
    assert.equal(checkDigest(buf, decodeMessage(buf), undefined), 'unexpected');
  });
});
