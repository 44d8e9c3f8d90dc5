// DHCP decoders: decodeMessage (whole packet, src/dhcp/wire/packet.ts) and decodeOption (typed option
// payloads, src/dhcp/wire/option-codecs.ts). Contract: a value or DecodeError with a reason from DECODE_REASONS.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/errors.ts';
import { DECODE_REASONS, MAGIC_COOKIE, decodeMessage, encodeMessage, encodeMessageWithReport } from '../../src/dhcp/wire/packet.ts';
import { decodeOption, encodeOption } from '../../src/dhcp/wire/option-codecs.ts';
import { OPTION_SPECS } from '../../src/dhcp/wire/option-table.ts';
import type { DhcpMessage } from '../../src/dhcp/wire/message.ts';
import { loadHexCorpus, mutatedSeed, randomBytes, typedOutcome, type AllowedError, type Decoder, prop } from './harness.ts';

const ALLOWED: readonly AllowedError[] = [{ type: DecodeError, codes: DECODE_REASONS }];

export const DHCP_SEEDS: readonly Buffer[] = loadHexCorpus('dhcp').map((s) => s.value);

/** decodeMessage, then decodeOption on every option it returned: each a value or DecodeError. */
export function checkPacket(buf: Buffer): DhcpMessage | undefined {
  const r = typedOutcome('decodeMessage', () => decodeMessage(buf), ALLOWED);
  if (!r.ok) return undefined;
  const m = r.value;
  assert.equal(m.chaddr.length, 16);
  assert.equal(m.sname.length, 64);
  assert.equal(m.file.length, 128);
  for (const [code, data] of m.options) {
    assert.ok(Number.isInteger(code) && code >= 1 && code <= 254 && code !== 52, `option code ${code} stored`);
    typedOutcome(`decodeOption(${code})`, () => decodeOption(code, data), ALLOWED);
  }
  return m;
}

function sortedOptions(m: DhcpMessage): [number, string][] {
  return [...m.options].map(([c, d]) => [c, d.toString('hex')] as [number, string]).sort((a, b) => a[0] - b[0]);
}

function header(m: DhcpMessage): unknown {
  const { options: _o, chaddr, sname, file, ...rest } = m;
  return { ...rest, chaddr: chaddr.toString('hex'), sname: sname.toString('hex'), file: file.toString('hex') };
}

/** encode(decode(x)) decodes to the same message; with a size limit, to the same minus the dropped options. */
export function checkReencode(m: DhcpMessage, maxSize: number | undefined): void {
  if (maxSize === undefined) {
    const again = decodeMessage(encodeMessage(m));
    assert.deepEqual(header(again), header(m));
    assert.deepEqual(sortedOptions(again), sortedOptions(m));
    return;
  }
  let r;
  try {
    r = encodeMessageWithReport(m, { maxSize });
  } catch (err) {
    // Documented precondition: 53, 54 and 51 must fit; a decoded packet can carry huge ones.
    if (err instanceof RangeError && /does not fit/.test(err.message)) return;
    throw err;
  }
  assert.ok(r.packet.length <= Math.max(300, Math.max(576, maxSize) - 28), `packet ${r.packet.length} bytes over the limit`);
  const again = decodeMessage(r.packet);
  const expected = sortedOptions(m).filter(([c]) => !r.dropped.includes(c));
  assert.deepEqual(sortedOptions(again), expected);
  const h = header(m) as Record<string, unknown>, h2 = header(again) as Record<string, unknown>;
  if (r.overload & 1) h.file = h2.file; // overloaded fields come back zero-filled (they were zero to be used)
  if (r.overload & 2) h.sname = h2.sname;
  assert.deepEqual(h2, h);
}

/** Types whose encoding is canonical: encode(decode(data)) is data itself. */
const CANONICAL = new Set(['ip', 'ips', 'u8', 'u16', 'u32', 'i32', 'bool', 'bytes', 'u8s', 'u16s', 'ip-pairs', 'client-id', 'classless-routes']);

/** decodeOption(code, encodeOption(code, v)) == v for every decoded v the encoder accepts. */
export function checkOptionRoundTrip(code: number, data: Buffer): void {
  const r = typedOutcome(`decodeOption(${code})`, () => decodeOption(code, data), ALLOWED);
  if (!r.ok) return;
  let enc: Buffer;
  try {
    enc = encodeOption(code, r.value);
  } catch (err) {
    // The encoder refuses some decodable values by design (empty lists, empty strings); those are Type/RangeErrors.
    assert.ok(err instanceof TypeError || err instanceof RangeError, `encodeOption threw ${String(err)}`);
    return;
  }
  const type = OPTION_SPECS[code]?.type ?? 'bytes';
  // relay-agent values carry `raw` (the payload as received); the encoder writes sub-options in its own
  // order, so only the sub-options themselves must survive.
  const semantic = (v: unknown): unknown => (type === 'relay-agent' ? { ...(v as object), raw: undefined } : v);
  assert.deepEqual(semantic(decodeOption(code, enc)), semantic(r.value), `option ${code}: ${data.toString('hex')} → ${enc.toString('hex')}`);
  if (CANONICAL.has(type)) assert.equal(enc.toString('hex'), data.toString('hex'), `option ${code} (${type}) not canonical`);
}

// ---------------------------------------------------------------------------------------------
// Input generators

const COOKIE = Buffer.alloc(4); COOKIE.writeUInt32BE(MAGIC_COOKIE, 0);

/** A 236-byte header (random, or zero sname/file so overload is possible), the cookie, then random options. */
const optionArb = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 })).map(([c, d]) => Buffer.from([c, d.length, ...d])) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(52), fc.uint8Array({ maxLength: 2 })).map(([c, d]) => Buffer.from([c, d.length, ...d])) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }).map((v) => Buffer.from([52, 1, v])) },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.of(0), Buffer.of(255), Buffer.of(255, 0)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 0, max: 255 })).map(([c, l]) => Buffer.from([c, l])) }, // lying length
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...Object.keys(OPTION_SPECS).map(Number)), fc.uint8Array({ maxLength: 24 })).map(([c, d]) => Buffer.from([c, d.length, ...d])) },
);
const fieldArb = (size: number) => fc.oneof(
  fc.constant(Buffer.alloc(size)),
  fc.array(optionArb, { maxLength: 6 }).map((os) => { const b = Buffer.alloc(size); Buffer.concat(os).copy(b, 0, 0, size); return b; }),
  fc.uint8Array({ minLength: size, maxLength: size }).map((a) => Buffer.from(a)),
);
export const structuredPacket: fc.Arbitrary<Buffer> = fc.tuple(
  fc.uint8Array({ minLength: 44, maxLength: 44 }), fieldArb(64), fieldArb(128), fc.array(optionArb, { maxLength: 14 }), fc.boolean(),
).map(([head, sname, file, opts, end]) => Buffer.concat([Buffer.from(head), sname, file, COOKIE, ...opts, end ? Buffer.of(255) : Buffer.alloc(0)]));

/** Seeds with the mutations confined to the options area (bytes 240 on), so the cookie survives. */
export const mutatedOptionsArea: fc.Arbitrary<Buffer> = fc.tuple(fc.integer({ min: 0, max: DHCP_SEEDS.length - 1 }), mutatedSeed(DHCP_SEEDS.map((s) => s.subarray(240)), 8))
  .map(([i, tail]) => Buffer.concat([DHCP_SEEDS[i]!.subarray(0, 240), tail]));

const maxSizeArb = fc.option(fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.constantFrom(576, 577, 600, 1500, 65535)), { nil: undefined });

export const dhcpDecoder: Decoder = {
  name: 'dhcp',
  properties: [
    prop('decodeMessage: random bytes → message or DecodeError', 2, () =>
      fc.property(fc.oneof(randomBytes(600), fc.tuple(randomBytes(236), randomBytes(400)).map(([h, o]) => Buffer.concat([h, COOKIE, o]))), (b) => { checkPacket(b); })),
    prop('decodeMessage: mutated corpus packets → message or DecodeError; re-encode round-trips', 4, () =>
      fc.property(fc.oneof(mutatedSeed(DHCP_SEEDS), mutatedOptionsArea), maxSizeArb, (b, maxSize) => {
        const m = checkPacket(b);
        if (m !== undefined) checkReencode(m, maxSize);
      })),
    prop('decodeMessage: structured option soup (overload, zero-length, lying lengths) → message or DecodeError; re-encode round-trips', 3, () =>
      fc.property(structuredPacket, maxSizeArb, (b, maxSize) => {
        const m = checkPacket(b);
        if (m !== undefined) checkReencode(m, maxSize);
      })),
    prop('decodeOption: any code, any payload → value or DecodeError; typed round-trip', 3, () =>
      fc.property(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...Object.keys(OPTION_SPECS).map(Number))), randomBytes(300), (code, data) => {
        checkOptionRoundTrip(code, data);
      })),
  ],
};
