import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { DecodeError } from '../../../src/errors.ts';
import { parseIpv4 } from '../../../src/net/ipv4.ts';
import { BOOTREPLY, BOOTREQUEST, MessageType, type DhcpMessage } from '../../../src/dhcp/wire/message.ts';
import {
  DECODE_REASONS, MAGIC_COOKIE, decodeMessage, encodeMessage, encodeMessageWithReport,
} from '../../../src/dhcp/wire/packet.ts';
import {
  getClientId, getHostname, getMaxMessageSize, getMessageType, getParameterRequestList, getRelayAgentInfo, getRequestedIp, getServerId,
} from '../../../src/dhcp/wire/message-options.ts';

const FIXTURES = new URL('../../fixtures/dhcp/', import.meta.url);
function fixture(name: string): Buffer {
  return Buffer.from(readFileSync(new URL(name, FIXTURES), 'utf8').trim(), 'hex');
}
const FIXTURE_NAMES = readdirSync(FIXTURES).filter((f) => f.endsWith('.hex')).sort();
const ip = parseIpv4;
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };

function message(options: [number, Buffer][], over: Partial<DhcpMessage> = {}): DhcpMessage {
  const chaddr = Buffer.alloc(16);
  Buffer.from('02005e005301', 'hex').copy(chaddr);
  return {
    op: BOOTREPLY, htype: 1, hlen: 6, hops: 0, xid: 0xdeadbeef, secs: 0, flags: 0x8000,
    ciaddr: 0, yiaddr: ip('192.0.2.50'), siaddr: 0, giaddr: 0,
    chaddr, sname: Buffer.alloc(64), file: Buffer.alloc(128), options: new Map(options), ...over,
  };
}

/** Plain copies, so deepEqual compares values and not views of different backing stores. */
function plain(m: DhcpMessage): unknown {
  return { ...m, chaddr: Buffer.from(m.chaddr), sname: Buffer.from(m.sname), file: Buffer.from(m.file),
    options: [...m.options].map(([c, d]) => [c, Buffer.from(d)]) };
}

/** Options as an order-insensitive sorted list (overload may place options out of map order). */
function sortedOptions(m: DhcpMessage): [number, string][] {
  return [...m.options].map(([c, d]) => [c, d.toString('hex')] as [number, string]).sort((a, b) => a[0] - b[0]);
}

function decodesOrThrowsDecodeError(buf: Buffer): DhcpMessage | DecodeError {
  try { return decodeMessage(buf); } catch (err) {
    assert.ok(err instanceof DecodeError, `expected DecodeError, got ${String(err)}`);
    assert.ok((DECODE_REASONS as readonly string[]).includes(err.code), `reason ${err.code} not in DECODE_REASONS`);
    return err;
  }
}

describe('real client packets (captured by test/fixtures/dhcp/capture.sh from udhcpc 1.35 and ISC dhclient 4.4.3)', () => {
  it('has the captured fixtures', () => assert.ok(FIXTURE_NAMES.length >= 8, FIXTURE_NAMES.join(',')));
  for (const name of FIXTURE_NAMES) {
    it(`${name}: decodes and re-encodes to the same bytes`, () => {
      const buf = fixture(name);
      const m = decodeMessage(buf);
      assert.equal(m.htype, 1);
      assert.equal(m.hlen, 6);
      assert.equal(m.chaddr.subarray(0, 6).toString('hex'), '02005e005301');
      assert.deepEqual(encodeMessage(m), buf);
      assert.deepEqual(plain(decodeMessage(encodeMessage(m))), plain(m));
    });
  }
  it('udhcpc DISCOVER has the fields a server reads', () => {
    const m = decodeMessage(fixture('udhcpc-discover.hex'));
    assert.equal(m.op, BOOTREQUEST);
    assert.equal(getMessageType(m), MessageType.DISCOVER);
    assert.equal(getMaxMessageSize(m), 576);
    assert.equal(getHostname(m), 'codec-test');
    assert.equal(getClientId(m), '0102005e005301');
    assert.deepEqual(getParameterRequestList(m), [1, 3, 6, 12, 15, 28, 42]);
  });
  it('dhclient REQUEST names our server and the offered address', () => {
    const m = decodeMessage(fixture('dhclient-request.hex'));
    assert.equal(getMessageType(m), MessageType.REQUEST);
    assert.equal(getServerId(m), ip('192.0.2.1'));
    assert.equal(getRequestedIp(m), ip('192.0.2.50'));
    assert.ok(getParameterRequestList(m)?.includes(121));
  });
  it('decodes from a view at a non-zero offset of a larger buffer', () => {
    const buf = fixture('udhcpc-request.hex');
    const big = Buffer.alloc(buf.length + 20, 0xee);
    buf.copy(big, 7);
    const m = decodeMessage(big.subarray(7, 7 + buf.length));
    assert.deepEqual(plain(m), plain(decodeMessage(buf)));
  });
});

describe('encodeMessage', () => {
  it('puts 53 first, ends with End, pads to 300 with zeros', () => {
    const m = message([[1, u32(ip('255.255.255.0'))], [53, Buffer.of(5)], [54, u32(ip('192.0.2.1'))]]);
    const out = encodeMessage(m);
    assert.equal(out.length, 300);
    assert.equal(out.readUInt32BE(236), MAGIC_COOKIE);
    assert.equal(out.subarray(240, 240 + 3 + 6 + 6 + 1).toString('hex'), '350105' + '0104ffffff00' + '3604c0000201' + 'ff');
    assert.ok(out.subarray(256).every((b) => b === 0));
  });
  it('writes the header fields at their RFC 2131 offsets', () => {
    const m = message([[53, Buffer.of(2)]], { hops: 3, secs: 513, ciaddr: ip('1.2.3.4'), siaddr: ip('5.6.7.8'), giaddr: ip('9.10.11.12'),
      sname: Buffer.concat([Buffer.from('srv'), Buffer.alloc(61)]), file: Buffer.concat([Buffer.from('boot.img'), Buffer.alloc(120)]) });
    const out = encodeMessage(m);
    assert.equal(out.subarray(0, 44).toString('hex'),
      '02010603' + 'deadbeef' + '0201' + '8000' + '01020304' + 'c0000232' + '05060708' + '090a0b0c' + '02005e005301' + '00'.repeat(10));
    assert.equal(out.toString('latin1', 44, 47), 'srv');
    assert.equal(out.toString('latin1', 108, 116), 'boot.img');
  });
  it('accepts short chaddr/sname/file (zero-filled), rejects long ones and bad codes', () => {
    const short = encodeMessage(message([], { chaddr: Buffer.from('0102', 'hex'), sname: Buffer.from('x'), file: Buffer.alloc(0) }));
    assert.equal(short.subarray(28, 44).toString('hex'), '0102' + '00'.repeat(14));
    assert.throws(() => encodeMessage(message([], { chaddr: Buffer.alloc(17) })), RangeError);
    assert.throws(() => encodeMessage(message([], { file: Buffer.alloc(129) })), RangeError);
    assert.throws(() => encodeMessage(message([[255, Buffer.alloc(1)]])), RangeError);
    assert.throws(() => encodeMessage(message([[0, Buffer.alloc(1)]])), RangeError);
    assert.throws(() => encodeMessage(message([], { xid: -1 })), RangeError);
  });
  it('leaves option 52 to the encoder', () => {
    const out = encodeMessage(message([[53, Buffer.of(5)], [52, Buffer.of(3)]]));
    assert.equal(decodeMessage(out).options.has(52), false);
    assert.equal(out.subarray(240, 244).toString('hex'), '350105ff');
  });
  it('splits values over 255 bytes into consecutive instances and decodes them back (RFC 3396)', () => {
    const long = Buffer.from(Array.from({ length: 600 }, (_, i) => i & 255));
    const out = encodeMessage(message([[53, Buffer.of(5)], [119, long], [1, u32(0xffffff00)]]));
    let at = 243;
    for (const n of [255, 255, 90]) { assert.equal(out[at], 119); assert.equal(out[at + 1], n); at += 2 + n; }
    assert.equal(out[at], 1);
    const back = decodeMessage(out);
    assert.deepEqual(back.options.get(119), long);
    assert.deepEqual([...back.options.keys()], [53, 119, 1]);
  });
  it('encodes an empty value as a zero-length option (rapid commit)', () => {
    const out = encodeMessage(message([[53, Buffer.of(5)], [80, Buffer.alloc(0)]]));
    assert.equal(out.subarray(240, 246).toString('hex'), '3501055000ff');
    assert.deepEqual(decodeMessage(out).options.get(80), Buffer.alloc(0));
  });
});

describe('option overload (RFC 2131 §4.1, RFC 2132 §9.3)', () => {
  // Hand-built: options field = 53 DISCOVER, 52 overload=3, 12 "abc", End; file = 12 "def" (concatenated, RFC 3396),
  // 15 "example.com", End; sname = 3 router 192.0.2.1, End.
  function overloaded(value = 3): Buffer {
    const b = Buffer.alloc(300);
    b[0] = 1; b[1] = 1; b[2] = 6; b.writeUInt32BE(0x01020304, 4); b.writeUInt32BE(MAGIC_COOKIE, 236);
    Buffer.from('350101' + '3401' + value.toString(16).padStart(2, '0') + '0c03616263' + 'ff', 'hex').copy(b, 240);
    Buffer.from('0c03646566' + '0f0b6578616d706c652e636f6d' + 'ff', 'hex').copy(b, 108);
    Buffer.from('0304c0000201' + 'ff', 'hex').copy(b, 44);
    return b;
  }
  it('reads options from file and sname, concatenating in field order', () => {
    const m = decodeMessage(overloaded());
    assert.equal(m.options.get(12)?.toString(), 'abcdef');
    assert.equal(m.options.get(15)?.toString(), 'example.com');
    assert.deepEqual(m.options.get(3), u32(ip('192.0.2.1')));
    assert.equal(m.options.has(52), false);
    assert.ok(m.file.every((x) => x === 0) && m.file.length === 128);
    assert.ok(m.sname.every((x) => x === 0) && m.sname.length === 64);
  });
  it('overload 1 reads only file and keeps sname as data', () => {
    const m = decodeMessage(overloaded(1));
    assert.equal(m.options.has(3), false);
    assert.equal(m.sname.subarray(0, 6).toString('hex'), '0304c0000201');
    assert.equal(m.options.get(15)?.toString(), 'example.com');
  });
  it('overload 2 reads only sname and keeps file as data', () => {
    const m = decodeMessage(overloaded(2));
    assert.equal(m.options.has(15), false);
    assert.deepEqual(m.options.get(3), u32(ip('192.0.2.1')));
    assert.equal(m.options.get(12)?.toString(), 'abc');
  });
  for (const bad of [0, 4, 255]) {
    it(`rejects overload value ${bad}`, () => {
      assert.throws(() => decodeMessage(overloaded(bad)), (e: unknown) => e instanceof DecodeError && e.code === 'bad_overload');
    });
  }
  it('rejects an overload option of length 2', () => {
    const b = overloaded();
    Buffer.from('350101' + '34020303' + 'ff', 'hex').copy(b, 240);
    assert.throws(() => decodeMessage(b), (e: unknown) => e instanceof DecodeError && e.code === 'bad_overload');
  });
  it('rejects an option running past the end of the file field', () => {
    const b = overloaded();
    Buffer.from('0fff', 'hex').copy(b, 108 + 5);
    assert.throws(() => decodeMessage(b), (e: unknown) => e instanceof DecodeError && e.code === 'bad_option_length' && e.offset === 113);
  });

  const bulky = (): DhcpMessage => message([
    [53, Buffer.of(5)], [54, u32(ip('192.0.2.1'))], [51, u32(3600)], [1, u32(0xffffff00)],
    [119, Buffer.alloc(120, 0x61)], [43, Buffer.alloc(150, 0x62)], [77, Buffer.alloc(120, 0x63)], [60, Buffer.alloc(40, 0x64)],
    [82, Buffer.from('0104aabbccdd', 'hex')],
  ]);
  it('overloads file then sname to fit maxSize, and decodes back to the same options', () => {
    const m = bulky();
    const r = encodeMessageWithReport(m, { maxSize: 576 });
    assert.deepEqual(r.dropped, []);
    assert.equal(r.overload, 3);
    assert.ok(r.packet.length <= 548, `packet is ${r.packet.length} bytes`);
    assert.equal(r.packet.subarray(240, 246).toString('hex'), '350105' + '340103');
    const back = decodeMessage(r.packet);
    assert.deepEqual(sortedOptions(back), sortedOptions(m));
    assert.deepEqual(back.file, m.file);
    assert.deepEqual(back.sname, m.sname);
  });
  it('does not overload a file or sname that carries data; drops what does not fit and reports it', () => {
    const m = bulky();
    m.file = Buffer.concat([Buffer.from('pxelinux.0'), Buffer.alloc(118)]);
    const dropped: number[][] = [];
    const out = encodeMessage(m, { maxSize: 576, onDropped: (codes) => dropped.push(codes) });
    assert.ok(out.length <= 548);
    const back = decodeMessage(out);
    assert.equal(back.file.toString('latin1', 0, 10), 'pxelinux.0');
    assert.equal(dropped.length, 1);
    for (const code of [53, 54, 51, 82]) assert.ok(back.options.has(code), `kept ${code}`);
    for (const code of dropped[0]!) assert.equal(back.options.has(code), false);
    assert.deepEqual(sortedOptions(back), sortedOptions(m).filter(([c]) => !dropped[0]!.includes(c)));
    assert.equal(back.options.has(52), false);
  });
  it('splits one option longer than the options field across the fields in order', () => {
    const big = Buffer.from(Array.from({ length: 400 }, (_, i) => (i * 7) & 255));
    const m = message([[53, Buffer.of(5)], [54, u32(1)], [43, big]]);
    const r = encodeMessageWithReport(m, { maxSize: 576 });
    assert.deepEqual(r.dropped, []);
    assert.ok(r.overload & 1);
    assert.deepEqual(decodeMessage(r.packet).options.get(43), big);
  });
  it('drops everything but 53/54/51 when nothing else fits', () => {
    const m = message([[53, Buffer.of(5)], [43, Buffer.alloc(255)], [44, Buffer.alloc(255)], [45, Buffer.alloc(255)], [54, u32(1)], [51, u32(60)]]);
    const r = encodeMessageWithReport(m, { maxSize: 100 });
    assert.ok(r.packet.length <= 548);
    const back = decodeMessage(r.packet);
    assert.deepEqual([53, 54, 51, 43].filter((c) => back.options.has(c)).length, 4);
    assert.deepEqual(r.dropped, [44, 45]);
  });
  it('without maxSize never overloads', () => {
    const r = encodeMessageWithReport(bulky());
    assert.equal(r.overload, 0);
    assert.ok(r.packet.length > 576);
  });
});

describe('malformed input → DecodeError only', () => {
  it('exports a small fixed set of reasons', () => {
    assert.deepEqual([...DECODE_REASONS], ['truncated', 'bad_magic_cookie', 'bad_option_length', 'bad_overload', 'bad_option_value']);
  });
  for (const name of FIXTURE_NAMES) {
    it(`${name} truncated at every offset`, () => {
      const buf = fixture(name);
      for (let n = 0; n < buf.length; n++) {
        const r = decodesOrThrowsDecodeError(buf.subarray(0, n));
        if (n < 240) assert.ok(r instanceof DecodeError && r.code === 'truncated', `length ${n}`);
      }
    });
  }
  it('bad magic cookie', () => {
    const b = Buffer.from(fixture('udhcpc-discover.hex'));
    b[239] = 0x64;
    assert.throws(() => decodeMessage(b), (e: unknown) => e instanceof DecodeError && e.code === 'bad_magic_cookie' && e.offset === 236);
  });
  it('option length past the end of the packet', () => {
    const b = Buffer.alloc(245);
    b.writeUInt32BE(MAGIC_COOKIE, 236);
    Buffer.from('350101' + '0c09', 'hex').copy(b, 240);
    assert.throws(() => decodeMessage(b), (e: unknown) => e instanceof DecodeError && e.code === 'bad_option_length' && e.offset === 243);
    const noLen = Buffer.alloc(244);
    noLen.writeUInt32BE(MAGIC_COOKIE, 236);
    noLen[243] = 12;
    assert.throws(() => decodeMessage(noLen), (e: unknown) => e instanceof DecodeError && e.code === 'bad_option_length');
  });
  it('accepts a missing End when the options end on a boundary, and ignores bytes after End', () => {
    const b = Buffer.alloc(243);
    b.writeUInt32BE(MAGIC_COOKIE, 236);
    Buffer.from('350101', 'hex').copy(b, 240);
    assert.equal(getMessageType(decodeMessage(b)), 1);
    const after = Buffer.alloc(260);
    after.writeUInt32BE(MAGIC_COOKIE, 236);
    Buffer.from('350101ff0cff', 'hex').copy(after, 240);
    assert.deepEqual([...decodeMessage(after).options.keys()], [53]);
  });
  it('a malformed relay-agent payload is a packet the server still decodes (accessor reads it as absent)', () => {
    const b = encodeMessage(message([[53, Buffer.of(1)], [82, Buffer.from('0109aa', 'hex')]], { giaddr: 1 }));
    assert.equal(getRelayAgentInfo(decodeMessage(b)), undefined);
  });
  it('random bytes: decode returns or throws DecodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 700 }), (a) => { decodesOrThrowsDecodeError(Buffer.from(a)); }), { numRuns: 500, seed: 7 });
  });
  it('random bytes after a valid header and cookie: decode returns or throws DecodeError', () => {
    const head = fixture('udhcpc-discover.hex').subarray(0, 240);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.uint8Array({ minLength: 192, maxLength: 192 }), (tail, fields) => {
      const b = Buffer.concat([head, Buffer.from(tail)]);
      Buffer.from(fields).copy(b, 44);
      const r = decodesOrThrowsDecodeError(b);
      if (!(r instanceof DecodeError)) assert.deepEqual(sortedOptions(decodeMessage(encodeMessage(r))), sortedOptions(r));
    }), { numRuns: 500, seed: 11 });
  });
  it('random single-byte corruption of real packets: decode returns or throws DecodeError', () => {
    const packets = FIXTURE_NAMES.map(fixture);
    fc.assert(fc.property(fc.nat(packets.length - 1), fc.nat(700), fc.integer({ min: 0, max: 255 }), (k, pos, v) => {
      const b = Buffer.from(packets[k]!);
      b[pos % b.length] = v;
      decodesOrThrowsDecodeError(b);
    }), { numRuns: 1000, seed: 13 });
  });
});

describe('property: random messages round-trip', () => {
  const code = fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52);
  const value = fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ maxLength: 20 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 700 }) },
  ).map((a) => Buffer.from(a));
  const field = (n: number) => fc.oneof(fc.constant(Buffer.alloc(n)), fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a)));
  const msg = fc.record({
    op: fc.constantFrom(1, 2), htype: fc.integer({ min: 0, max: 255 }), hlen: fc.integer({ min: 0, max: 255 }), hops: fc.integer({ min: 0, max: 255 }),
    xid: fc.nat({ max: 0xffffffff }), secs: fc.nat({ max: 0xffff }), flags: fc.nat({ max: 0xffff }),
    ciaddr: fc.nat({ max: 0xffffffff }), yiaddr: fc.nat({ max: 0xffffffff }), siaddr: fc.nat({ max: 0xffffffff }), giaddr: fc.nat({ max: 0xffffffff }),
    chaddr: field(16), sname: field(64), file: field(128),
    options: fc.uniqueArray(fc.tuple(code, value), { selector: ([c]) => c, maxLength: 25 }).map((e) => new Map(e)),
  }).map((m) => ({ ...m }) as DhcpMessage);

  it('decode(encode(m)) deep-equals m without a size limit', () => {
    fc.assert(fc.property(msg, (m) => {
      const out = encodeMessage(m);
      assert.ok(out.length >= 300);
      const back = decodeMessage(out);
      // 53 moves to the front; everything else keeps map order.
      const ordered = new Map([...m.options].sort(([a], [b]) => Number(b === 53) - Number(a === 53)));
      assert.deepEqual(plain(back), plain({ ...m, options: ordered }));
      assert.deepEqual(encodeMessage(back), out);
    }), { numRuns: 300, seed: 5 });
  });
  it('with maxSize: fits, keeps every option not reported dropped, and never drops 53/54/51', () => {
    fc.assert(fc.property(msg, fc.integer({ min: 0, max: 1500 }), (m, maxSize) => {
      const r = encodeMessageWithReport(m, { maxSize });
      assert.ok(r.packet.length <= Math.max(576, maxSize) - 28);
      for (const c of [53, 54, 51]) assert.ok(!r.dropped.includes(c));
      const back = decodeMessage(r.packet);
      assert.deepEqual(sortedOptions(back), sortedOptions(m).filter(([c]) => !r.dropped.includes(c)));
      if (!(r.overload & 1)) assert.deepEqual(back.file, m.file);
      if (!(r.overload & 2)) assert.deepEqual(back.sname, m.sname);
    }), { numRuns: 300, seed: 9 });
  });
});
