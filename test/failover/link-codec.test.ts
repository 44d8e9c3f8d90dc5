import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError } from '../../src/errors.ts';
import { bndupdOptions } from '../../src/failover/peer.ts';
import { bytes, checkDigest, decodeMessage, encodeMessage, FrameReader, MessageType, Opt, text, u32, u8 } from '../../src/failover/link-codec.ts';
import { verifyMessage } from '../../src/failover/wire/auth.ts';
import { decodeFailoverMessage } from '../../src/failover/wire/message.ts';

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

describe('link-codec ↔ wire codec interop', () => {
  const time = 1_700_000_000;
  it('CONNECT as the runtime sends it decodes with wire decodeFailoverMessage, signed', () => {
    const key = Buffer.from('k');
    const buf = encodeMessage({ type: MessageType.CONNECT, time, xid: 1, options: [
      text(Opt.RELATIONSHIP, 'lab'), u32(Opt.MAX_UNACKED, 10), u32(Opt.RECEIVE_TIMER, 30), text(Opt.VENDOR_CLASS, 'x'),
      u8(Opt.PROTOCOL_VERSION, 1), u8(Opt.TLS_REQUEST, 0), u32(Opt.MCLT, 600), bytes(Opt.HBA, new Uint8Array(32).fill(0xff)),
    ] }, key);
    assert.equal(verifyMessage(buf, key), 'ok');
    const m = decodeFailoverMessage(buf) as unknown as Record<string, unknown>;
    assert.equal(m.type, 'CONNECT');
    assert.equal(m.relationshipName, 'lab');
    assert.equal(m.mclt, 600);
    assert.equal(m.xid, 1);
  });
  it('a BNDUPD built from a lease decodes with the wire codec (one transaction)', () => {
    const lease = { ip: 0x0a000096, scope: 's', state: 'active' as const, hw: '1:aabbccddeeff', clientId: '01aabbccddeeff', expiresAt: time * 1000 + 600_000, cltt: time * 1000, tstp: time * 1000 + 900_000 };
    const buf = encodeMessage({ type: MessageType.BNDUPD, time, xid: 2, options: bndupdOptions(lease, time * 1000) });
    const m = decodeFailoverMessage(buf) as unknown as { type: string; bindings: Record<string, unknown>[] };
    assert.equal(m.type, 'BNDUPD');
    assert.equal(m.bindings.length, 1);
    const b = m.bindings[0]!;
    assert.equal(b.assignedIpAddress, 0x0a000096);
    assert.equal(b.bindingStatus, 2);
    assert.deepEqual(b.clientIdentifier, Buffer.from('01aabbccddeeff', 'hex'));
    assert.equal(b.leaseExpirationTime, time + 600);
    assert.equal(b.potentialExpirationTime, time + 900);
    assert.equal(b.clientLastTransactionTime, time);
  });
  it('STATE decodes with the wire codec', () => {
    const buf = encodeMessage({ type: MessageType.STATE, time, xid: 3, options: [u8(Opt.SERVER_STATE, 2), u8(Opt.SERVER_FLAGS, 0), u32(Opt.STOS, time)] });
    const m = decodeFailoverMessage(buf) as unknown as Record<string, unknown>;
    assert.equal(m.type, 'STATE');
    assert.equal(m.serverState, 2);
  });
});
