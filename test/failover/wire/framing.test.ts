import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader } from '../../../src/failover/wire/framing.ts';
import { encodeFailoverMessage } from '../../../src/failover/wire/message.ts';
import { ISC_SAMPLES, MS_SAMPLES } from './samples.ts';
import { expectDecodeError } from './helpers.ts';

const MESSAGES = [
  ...ISC_SAMPLES.map((m) => encodeFailoverMessage(m, { dialect: 'isc' })),
  ...MS_SAMPLES.map((m) => encodeFailoverMessage(m, { dialect: 'ms', secret: 'shh' })),
];
const STREAM = Buffer.concat(MESSAGES);
const hex = (bs: Buffer[]): string[] => bs.map((b) => b.toString('hex'));

describe('FrameReader', () => {
  it('returns each message when fed one whole message per chunk', () => {
    const fr = new FrameReader();
    for (const m of MESSAGES) assert.deepEqual(hex(fr.push(m)), [m.toString('hex')]);
    assert.equal(fr.buffered, 0);
  });
  it('returns every message when fed byte by byte', () => {
    const fr = new FrameReader();
    const out: Buffer[] = [];
    for (let i = 0; i < STREAM.length; i++) {
      const got = fr.push(STREAM.subarray(i, i + 1));
      for (const g of got) out.push(Buffer.from(g));
    }
    assert.deepEqual(hex(out), hex(MESSAGES));
    assert.equal(fr.buffered, 0);
  });
  it('returns several messages per chunk, across every split point of the stream', () => {
    for (let cut = 0; cut <= STREAM.length; cut += 7) {
      const fr = new FrameReader();
      const out = [...fr.push(STREAM.subarray(0, cut)), ...fr.push(STREAM.subarray(cut))];
      assert.deepEqual(hex(out), hex(MESSAGES), `split at ${cut}`);
    }
    assert.deepEqual(hex(new FrameReader().push(STREAM)), hex(MESSAGES));
  });
  it('holds a partial message until it completes', () => {
    const fr = new FrameReader();
    const m = MESSAGES[2]!;
    assert.deepEqual(fr.push(m.subarray(0, 1)), []);
    assert.deepEqual(fr.push(m.subarray(1, m.length - 1)), []);
    assert.equal(fr.buffered, m.length - 1);
    assert.deepEqual(hex(fr.push(m.subarray(m.length - 1))), [m.toString('hex')]);
  });
  it('rejects an oversized length as soon as the two length bytes arrive, then stays failed', () => {
    const fr = new FrameReader({ maxMessageSize: 100 });
    const head = Buffer.from([0x00, 0x65]); // 101
    assert.deepEqual(fr.push(head.subarray(0, 1)), []);
    const err = expectDecodeError(() => fr.push(head.subarray(1)), 'bad_length');
    assert.equal(err.offset, 0);
    assert.equal(fr.buffered, 0, 'nothing of the oversized message is buffered');
    expectDecodeError(() => fr.push(MESSAGES[0]!), 'bad_length');
  });
  it('rejects 2049 by default and a length below 12; the offset is the stream offset', () => {
    expectDecodeError(() => new FrameReader().push(Buffer.from([0x08, 0x01])), 'bad_length');
    const fr = new FrameReader();
    const first = MESSAGES[0]!;
    const err = expectDecodeError(() => fr.push(Buffer.concat([first, Buffer.from([0x00, 0x0b, 0, 0])])), 'bad_length');
    assert.equal(err.offset, first.length);
  });
});
