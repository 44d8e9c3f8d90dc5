import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError, ProtocolError } from '../../../src/errors.ts';
import { parseIpv4 } from '../../../src/net/ipv4.ts';
import { decodeFailoverMessage, encodeFailoverMessage, type FailoverMessage } from '../../../src/failover/wire/message.ts';
import { MESSAGE_TYPES, ALLOWED_OPTIONS, FAILOVER_OPTIONS, OPTION_CODES, serverStateFromWire, serverStateToWire, SERVER_STATE_CODES } from '../../../src/failover/wire/options.ts';
import { ISC_SAMPLES, MS_SAMPLES } from './samples.ts';
import { decodeOrDecodeError, expectDecodeError, plain, rawMessage, u8, u16, u32 } from './helpers.ts';

const ALL: readonly [FailoverMessage, 'isc' | 'ms'][] = [
  ...ISC_SAMPLES.map((m) => [m, 'isc'] as [FailoverMessage, 'isc']),
  ...MS_SAMPLES.map((m) => [m, 'ms'] as [FailoverMessage, 'ms']),
];

describe('round trip: decode(encode(m)) deep-equals m', () => {
  it('covers every message type', () => {
    const covered = new Set(ALL.map(([m]) => m.type));
    assert.deepEqual([...covered].sort(), Object.keys(MESSAGE_TYPES).sort());
  });
  for (const [m, dialect] of ALL) {
    it(`${m.type} xid ${m.xid} (${dialect})`, () => {
      const bytes = encodeFailoverMessage(m, { dialect });
      assert.equal(bytes.readUInt16BE(0), bytes.length, 'length field = bytes on the wire');
      assert.equal(bytes[2], MESSAGE_TYPES[m.type]);
      assert.equal(bytes[3], 12, 'payload offset 12');
      assert.deepEqual(plain(decodeFailoverMessage(bytes)), plain(m));
      // at a non-zero offset inside a larger buffer, with garbage around it
      const big = Buffer.concat([Buffer.alloc(5, 0xee), bytes, Buffer.alloc(9, 0xdd)]);
      assert.deepEqual(plain(decodeFailoverMessage(big, 5)), plain(m));
      // and re-encoding the decoded message gives the same bytes
      assert.deepEqual(encodeFailoverMessage(decodeFailoverMessage(bytes), { dialect }), bytes);
    });
  }
});

describe('truncation at every offset → DecodeError only', () => {
  for (const [m, dialect] of ALL) {
    it(`${m.type} xid ${m.xid}`, () => {
      const bytes = encodeFailoverMessage(m, { dialect });
      for (let n = 0; n < bytes.length; n++) {
        const r = decodeOrDecodeError(bytes.subarray(0, n));
        assert.ok(r instanceof DecodeError, `prefix of ${n} bytes decoded`);
        assert.equal(r.code, 'truncated');
      }
      // a message whose length field is shortened cuts the last option
      for (let n = 12; n < bytes.length; n++) {
        const cut = Buffer.from(bytes.subarray(0, n));
        cut.writeUInt16BE(n, 0);
        decodeOrDecodeError(cut);
      }
    });
  }
});

describe('header', () => {
  it('rejects lengths below 12 and above 2048', () => {
    const b = rawMessage(11, []);
    b.writeUInt16BE(11, 0);
    expectDecodeError(() => decodeFailoverMessage(b), 'bad_length');
    const big = Buffer.alloc(2052); // 510 empty options of code 0 after the header
    big.writeUInt16BE(2052, 0); big[2] = 11; big[3] = 12;
    expectDecodeError(() => decodeFailoverMessage(big), 'bad_length');
    assert.equal(decodeFailoverMessage(big, 0, { maxMessageSize: 4096 }).skipped?.length, 510);
  });
  it('rejects unknown message types 0 and 13..255', () => {
    for (const t of [0, 13, 127, 128, 255]) expectDecodeError(() => decodeFailoverMessage(rawMessage(t, [])), 'unknown_message_type');
  });
  it('rejects a payload offset below 12 or past the end, and skips extra header bytes', () => {
    const b = rawMessage(11, []);
    b[3] = 8;
    expectDecodeError(() => decodeFailoverMessage(b), 'bad_header');
    b[3] = 13;
    expectDecodeError(() => decodeFailoverMessage(b), 'bad_header');
    const extra = rawMessage(10, [[24, u8(2)], [23, u8(0)], [25, u32(5)]], { payloadOffset: 16 });
    assert.deepEqual(decodeFailoverMessage(extra), { type: 'STATE', xid: 7, time: 1_700_000_000, serverState: 2, serverFlags: 0, startTimeOfState: 5 });
  });
});

describe('options', () => {
  it('every table code has a name and a type, and every allowed code is in the table', () => {
    for (const code of OPTION_CODES) assert.ok(FAILOVER_OPTIONS[code].name.length > 0);
    for (const set of Object.values(ALLOWED_OPTIONS)) for (const c of set) assert.ok(OPTION_CODES.includes(c));
  });
  it('skips and reports unknown and not-allowed codes', () => {
    const b = rawMessage(10, [[99, Buffer.from('zz')], [24, u8(2)], [1, u32(5)], [30, Buffer.alloc(4)], [23, u8(1)]]);
    const m = decodeFailoverMessage(b);
    assert.deepEqual(m, { type: 'STATE', xid: 7, time: 1_700_000_000, serverState: 2, serverFlags: 1, skipped: [99, 1, 30] });
  });
  it('duplicate option → duplicate_option', () => {
    expectDecodeError(() => decodeFailoverMessage(rawMessage(10, [[24, u8(2)], [24, u8(3)]])), 'duplicate_option');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(3, [[2, u32(1)], [3, u8(2)], [3, u8(2)]])), 'duplicate_option');
  });
  it('a repeated not-allowed option is skipped twice, not an error', () => {
    assert.deepEqual(decodeFailoverMessage(rawMessage(11, [[24, u8(2)], [24, u8(2)]])).skipped, [24, 24]);
  });
  it('option length past the message end → bad_option_length', () => {
    const b = rawMessage(10, [[24, u8(2)]]);
    b.writeUInt16BE(5, 14);
    expectDecodeError(() => decodeFailoverMessage(b), 'bad_option_length');
    // a dangling option header
    const c = Buffer.concat([rawMessage(11, []), Buffer.from([0, 24])]);
    c.writeUInt16BE(c.length, 0);
    expectDecodeError(() => decodeFailoverMessage(c), 'bad_option_length');
  });
  it('fixed-size options with the wrong size → bad_option_length (IP-flags must be 2 bytes, HBA 32)', () => {
    expectDecodeError(() => decodeFailoverMessage(rawMessage(3, [[2, u32(1)], [12, u8(1)]])), 'bad_option_length');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(5, [[11, Buffer.alloc(31)]])), 'bad_option_length');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(10, [[24, u16(2)]])), 'bad_option_length');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(3, [[2, Buffer.alloc(3)]])), 'bad_option_length');
  });
  it('variable options with impossible contents → bad_option_length', () => {
    expectDecodeError(() => decodeFailoverMessage(rawMessage(3, [[2, u32(1)], [5, Buffer.alloc(0)]])), 'bad_option_length');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(3, [[2, u32(1)], [9, u8(1)]])), 'bad_option_length');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(5, [[29, Buffer.from('000100050102', 'hex')]])), 'bad_option_length');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(9, [[30, Buffer.alloc(6)]])), 'bad_option_length');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(3, [[2, u32(1)], [31, Buffer.alloc(3)]])), 'bad_option_length');
  });
  it('required options → missing_option', () => {
    expectDecodeError(() => decodeFailoverMessage(rawMessage(2, [])), 'missing_option');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(10, [[23, u8(0)]])), 'missing_option');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(3, [[3, u8(2)]])), 'missing_option');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(4, [[21, u8(3)]])), 'missing_option');
  });
  it('a CONNECT without MCLT/HBA and a BNDUPD without binding-status still decode (the peer rejects with 5/18/3)', () => {
    assert.deepEqual(decodeFailoverMessage(rawMessage(5, [[22, Buffer.from('x')]])), { type: 'CONNECT', xid: 7, time: 1_700_000_000, relationshipName: 'x' });
    assert.deepEqual(decodeFailoverMessage(rawMessage(3, [[2, u32(5)]])), { type: 'BNDUPD', xid: 7, time: 1_700_000_000, bindings: [{ assignedIpAddress: 5 }] });
  });
  it('batched BNDUPD: each assigned-IP-address starts a transaction; earlier options join the first', () => {
    const b = rawMessage(3, [[3, u8(7)], [2, u32(1)], [2, u32(2)], [3, u8(1)], [2, u32(3)]]);
    assert.deepEqual(decodeFailoverMessage(b), { type: 'BNDUPD', xid: 7, time: 1_700_000_000, bindings: [
      { assignedIpAddress: 1, bindingStatus: 7 }, { assignedIpAddress: 2, bindingStatus: 1 }, { assignedIpAddress: 3 }] });
  });
  it('message-digest must be last (so two digests are misplaced); the digest is not a field', () => {
    expectDecodeError(() => decodeFailoverMessage(rawMessage(11, [[17, Buffer.alloc(33)], [24, u8(2)]])), 'misplaced_digest');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(11, [[17, Buffer.alloc(33)], [17, Buffer.alloc(33)]])), 'misplaced_digest');
    expectDecodeError(() => decodeFailoverMessage(rawMessage(11, [[17, Buffer.alloc(0)]])), 'bad_option_length');
    assert.deepEqual(decodeFailoverMessage(rawMessage(11, [[17, Buffer.alloc(33)]])), { type: 'CONTACT', xid: 7, time: 1_700_000_000 });
  });
});

describe('server-state values', () => {
  it('maps both ways, with RECOVER-WAIT = 254 and unknown values undefined', () => {
    for (const [s, c] of Object.entries(SERVER_STATE_CODES)) {
      assert.equal(serverStateFromWire(c), s);
      assert.equal(serverStateToWire(s as keyof typeof SERVER_STATE_CODES), c);
    }
    assert.equal(serverStateToWire('recover-wait'), 254);
    for (const c of [0, 12, 253, 255]) assert.equal(serverStateFromWire(c), undefined);
  });
});

describe('encode checks', () => {
  const T = 1_700_000_000;
  const fails = (m: FailoverMessage, dialect: 'isc' | 'ms', pattern: RegExp): void => {
    assert.throws(() => encodeFailoverMessage(m, { dialect }), (e: unknown) => e instanceof ProtocolError && e.code === 'encode_failed' && pattern.test(e.message));
  };
  it('ISC: no batches, no MS options, binding-status 1..7, server-state 0..11/254', () => {
    fails(MS_SAMPLES[0]!, 'isc', /2 transactions/);
    fails({ type: 'BNDACK', xid: 1, time: T, acks: [{ assignedIpAddress: 1 }, { assignedIpAddress: 2 }] }, 'isc', /2 transactions/);
    fails({ type: 'BNDUPD', xid: 1, time: T, bindings: [{ assignedIpAddress: 1, bindingStatus: 2, msClientSubnetMask: 0xffffff00 }] }, 'isc', /msClientSubnetMask/);
    fails({ type: 'BNDUPD', xid: 1, time: T, bindings: [{ assignedIpAddress: 1, bindingStatus: 8 }] }, 'isc', /binding-status 8/);
    fails({ type: 'STATE', xid: 1, time: T, serverState: 12 }, 'isc', /server-state 12/);
    fails(MS_SAMPLES[2]!, 'isc', /ms-scope-id-list/);
  });
  it('MS: subnet mask, binding-status and IP-flags in every BNDUPD transaction; at most 16', () => {
    fails({ type: 'BNDUPD', xid: 1, time: T, bindings: [{ assignedIpAddress: 1, bindingStatus: 1, ipFlags: 0 }] }, 'ms', /subnet-mask/);
    const b = { assignedIpAddress: 1, bindingStatus: 1, ipFlags: 0, msClientSubnetMask: 0xffffff00 };
    assert.equal(decodeFailoverMessage(encodeFailoverMessage({ type: 'BNDUPD', xid: 1, time: T, bindings: Array(16).fill(b) }, { dialect: 'ms' })).type, 'BNDUPD');
    fails({ type: 'BNDUPD', xid: 1, time: T, bindings: Array(17).fill(b) }, 'ms', /17 transactions/);
  });
  it('values that do not fit their option and messages over 2048 bytes', () => {
    fails({ type: 'CONNECT', xid: 1, time: T, hba: Buffer.alloc(31) }, 'isc', /expected 32/);
    fails({ type: 'STATE', xid: 1, time: T, serverState: 256 }, 'ms', /u8 out of range/);
    fails({ type: 'DISCONNECT', xid: 1, time: T, message: 'x'.repeat(2100) }, 'isc', /at most 2048/);
  });
  it('a 2048-byte message encodes; with a secret the digest must still fit', () => {
    const m: FailoverMessage = { type: 'DISCONNECT', xid: 1, time: T, message: 'x'.repeat(2048 - 12 - 4) };
    assert.equal(encodeFailoverMessage(m, { dialect: 'isc' }).length, 2048);
    assert.throws(() => encodeFailoverMessage(m, { dialect: 'ms', secret: 's' }), /at most 2011/);
  });
  it('BNDUPD/BNDACK need at least one transaction', () => {
    fails({ type: 'BNDUPD', xid: 1, time: T, bindings: [] }, 'ms', /at least one/);
    fails({ type: 'BNDACK', xid: 1, time: T, acks: [] }, 'isc', /at least one/);
  });
  it('ignores `skipped` when encoding', () => {
    const m: FailoverMessage = { type: 'CONTACT', xid: 1, time: T, skipped: [99] };
    assert.deepEqual(decodeFailoverMessage(encodeFailoverMessage(m, { dialect: 'isc' })), { type: 'CONTACT', xid: 1, time: T });
  });
  it('assigned-IP-address is written first in each transaction', () => {
    const bytes = encodeFailoverMessage({ type: 'BNDUPD', xid: 1, time: T, bindings: [{ bindingStatus: 2, assignedIpAddress: parseIpv4('10.0.0.1') }] }, { dialect: 'isc' });
    assert.equal(bytes.readUInt16BE(12), 2);
  });
});
