// Failover decoders (src/failover/wire/): decodeFailoverMessage (one framed message), decodeOptionValue
// (one option), FrameReader (TCP framing) and verifyMessage/hasDigest (HMAC digest check).
// Contract: a value or DecodeError with a reason from FAILOVER_DECODE_REASONS; the digest checks never throw.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError, ProtocolError } from '../../src/errors.ts';
import { decodeFailoverMessage, encodeFailoverMessage, type FailoverMessage } from '../../src/failover/wire/message.ts';
import { FrameReader } from '../../src/failover/wire/framing.ts';
import { FAILOVER_DECODE_REASONS, Reader } from '../../src/failover/wire/reader.ts';
import { Writer } from '../../src/failover/wire/writer.ts';
import { OPTION_CODES, decodeOptionValue, encodeOption, type OptionCode } from '../../src/failover/wire/options.ts';
import { hasDigest, signMessage, verifyMessage } from '../../src/failover/wire/auth.ts';
import { HEADER_SIZE, MAX_MESSAGE_SIZE } from '../../src/failover/wire/header.ts';
import { loadHexCorpus, mutatedSeed, pos, randomBytes, typedOutcome, type AllowedError, type Decoder, prop } from './harness.ts';

const ALLOWED: readonly AllowedError[] = [{ type: DecodeError, codes: FAILOVER_DECODE_REASONS }];

export const FAILOVER_SEEDS: readonly Buffer[] = loadHexCorpus('failover').map((s) => s.value);

/** Deep copies Buffers (views of different backing stores deep-equal by bytes) and drops undefined fields. */
function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, plain(x)]));
  return v;
}

export function checkDecode(buf: Buffer, offset = 0, maxMessageSize?: number): FailoverMessage | undefined {
  const opts = maxMessageSize === undefined ? {} : { maxMessageSize };
  const r = typedOutcome('decodeFailoverMessage', () => decodeFailoverMessage(buf, offset, opts), ALLOWED);
  return r.ok ? r.value : undefined;
}

/** encode(decode(x)) decodes to decode(x) (without `skipped`), in whichever dialect accepts it. */
export function checkReencode(m: FailoverMessage, secret: string | undefined): void {
  const { skipped: _s, ...rest } = m as FailoverMessage & { skipped?: unknown };
  const want = rest as FailoverMessage;
  for (const dialect of ['ms', 'isc'] as const) {
    let bytes: Buffer;
    try {
      bytes = encodeFailoverMessage(want, { dialect, secret });
    } catch (err) {
      // Dialect rules and the 2048-byte limit are the encoder's documented refusals.
      assert.ok(err instanceof ProtocolError && err.code === 'encode_failed', `encodeFailoverMessage threw ${String(err)}`);
      continue;
    }
    assert.ok(bytes.length >= HEADER_SIZE && bytes.length <= MAX_MESSAGE_SIZE);
    const again = decodeFailoverMessage(bytes);
    assert.deepEqual(plain(again), plain(want), `${dialect} re-encode of ${m.type} changed it`);
    if (secret !== undefined) assert.equal(verifyMessage(bytes, secret), 'ok');
    return;
  }
}

/** verifyMessage/hasDigest never throw and give one of their documented answers. */
export function checkVerify(buf: Buffer, secret: string | Buffer): 'ok' | 'missing' | 'bad' {
  const vr = typedOutcome('verifyMessage', () => verifyMessage(buf, secret), []);
  const hr = typedOutcome('hasDigest', () => hasDigest(buf), []);
  assert.ok(vr.ok && hr.ok); // with no allowed errors, typedOutcome has already failed on any throw
  const v: unknown = vr.value, h: unknown = hr.value;
  assert.ok(v === 'ok' || v === 'missing' || v === 'bad', `verifyMessage returned ${String(v)}`);
  assert.equal(typeof h, 'boolean');
  if (v === 'missing') assert.equal(h, false);
  if (v === 'ok') assert.equal(h, true);
  return v as 'ok' | 'missing' | 'bad';
}

/** decodeOptionValue on a Reader bounded to `data`; when it decodes, encodeOption → decode gives it back. */
export function checkOption(code: OptionCode, data: Buffer): void {
  const r = typedOutcome(`decodeOptionValue(${code})`, () => decodeOptionValue(code, new Reader(data)), ALLOWED);
  if (!r.ok) return;
  const w = new Writer(16);
  encodeOption(code, r.value as never, w);
  const out = w.finish();
  assert.equal(out.readUInt16BE(0), code);
  assert.equal(out.readUInt16BE(2), out.length - 4);
  const again = decodeOptionValue(code, new Reader(out, 4));
  assert.deepEqual(plain(again), plain(r.value), `option ${code}: ${data.toString('hex')} → ${out.toString('hex')}`);
}

// ---------------------------------------------------------------------------------------------

/** Header with a consistent length, a type 0..14, payload offset 12 (sometimes more), then an option soup. */
const optionArb = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.oneof(fc.constantFrom(...OPTION_CODES), fc.integer({ min: 0, max: 0xffff })), fc.uint8Array({ maxLength: 40 }))
    .map(([c, d]) => { const h = Buffer.alloc(4); h.writeUInt16BE(c, 0); h.writeUInt16BE(d.length, 2); return Buffer.concat([h, Buffer.from(d)]); }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })) // lying length
    .map(([c, l]) => { const h = Buffer.alloc(4); h.writeUInt16BE(c, 0); h.writeUInt16BE(l, 2); return h; }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 33, maxLength: 33 }).map((d) => { const h = Buffer.alloc(4); h.writeUInt16BE(17, 0); h.writeUInt16BE(33, 2); return Buffer.concat([h, Buffer.from(d)]); }) },
);
export const structuredMessage: fc.Arbitrary<Buffer> = fc.tuple(
  fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 4 }), fc.array(optionArb, { maxLength: 10 }), fc.integer({ min: 0, max: 0xffffffff }),
).map(([type, extra, opts, xid]) => {
  const head = Buffer.alloc(HEADER_SIZE + extra);
  const body = Buffer.concat(opts);
  head.writeUInt16BE(Math.min(0xffff, head.length + body.length), 0);
  head[2] = type; head[3] = head.length; head.writeUInt32BE(1_700_000_000, 4); head.writeUInt32BE(xid, 8);
  return Buffer.concat([head, body]);
});

/** Mutated seeds with the length field then set to the real length, so the option area gets exercised. */
export const mutatedBody: fc.Arbitrary<Buffer> = mutatedSeed(FAILOVER_SEEDS).map((b) => {
  if (b.length < 2 || b.length > 0xffff) return b;
  const c = Buffer.from(b); c.writeUInt16BE(c.length, 0); return c;
});
const anyMessageBytes = fc.oneof(
  { weight: 1, arbitrary: randomBytes(120) }, { weight: 2, arbitrary: mutatedSeed(FAILOVER_SEEDS) },
  { weight: 3, arbitrary: mutatedBody }, { weight: 3, arbitrary: structuredMessage },
);
const secretArb = fc.oneof(fc.string({ maxLength: 24 }), fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)));

export const failoverDecoder: Decoder = {
  name: 'failover',
  properties: [
    prop('decodeFailoverMessage: random, mutated and structured bytes (any offset, max size) → message or DecodeError; re-encode round-trips', 5, () =>
      fc.property(anyMessageBytes, fc.option(randomBytes(8), { nil: undefined }), fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
        fc.option(fc.string({ maxLength: 8 }), { nil: undefined }), (b, prefix, maxSize, secret) => {
          const buf = prefix === undefined ? b : Buffer.concat([prefix, b]);
          const m = checkDecode(buf, prefix?.length ?? 0, maxSize);
          if (m !== undefined) checkReencode(m, secret);
        })),
    prop('decodeOptionValue: every option code, any payload → value or DecodeError; encodeOption round-trips', 2, () =>
      fc.property(fc.constantFrom(...OPTION_CODES), fc.oneof(randomBytes(48), fc.constantFrom(Buffer.alloc(0), Buffer.alloc(4), Buffer.alloc(32))), (code, data) => {
        checkOption(code, data);
      })),
    prop('FrameReader: seeds concatenated and cut anywhere come back whole; garbage gives DecodeError(bad_length) only', 2, () =>
      fc.property(fc.array(fc.oneof(fc.constantFrom(...FAILOVER_SEEDS), mutatedSeed(FAILOVER_SEEDS, 2)), { minLength: 1, maxLength: 6 }),
        fc.array(pos, { maxLength: 8 }), fc.option(fc.integer({ min: HEADER_SIZE, max: 0xffff }), { nil: undefined }), (msgs, cuts, max) => {
          const stream = Buffer.concat(msgs);
          const at = [...new Set(cuts.map((c) => Math.floor(c * stream.length)))].sort((a, b) => a - b);
          const chunks: Buffer[] = []; let prev = 0;
          for (const c of [...at, stream.length]) { chunks.push(stream.subarray(prev, c)); prev = c; }
          const fr = new FrameReader(max === undefined ? {} : { maxMessageSize: max });
          const got: Buffer[] = [];
          let error: Error | undefined;
          for (const c of chunks) {
            const r = typedOutcome('FrameReader.push', () => fr.push(c), [{ type: DecodeError, codes: ['bad_length'] }]);
            if (!r.ok) { error = r.error; break; }
            got.push(...r.value);
          }
          for (const g of got) { assert.ok(g.length >= HEADER_SIZE && g.length <= fr.maxMessageSize); checkDecode(g); }
          // Whatever came out is a prefix of the stream, message boundaries included.
          assert.equal(Buffer.concat(got).toString('hex'), stream.subarray(0, got.reduce((s, g) => s + g.length, 0)).toString('hex'));
          if (error === undefined) {
            // Without an error every message whose length field is honest is recovered exactly.
            const honest = msgs.every((m) => m.length >= 2 && m.readUInt16BE(0) === m.length && m.length <= fr.maxMessageSize);
            if (honest) assert.deepEqual(got.map((g) => g.toString('hex')), msgs.map((m) => m.toString('hex')));
          }
        })),
    prop('verifyMessage/hasDigest: any bytes → ok|missing|bad, never throw; signed seeds verify; any bit flip of a signed message is not ok', 3, () =>
      fc.property(anyMessageBytes, secretArb, fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 7 }), (b, secret, at, bit) => {
        checkVerify(b, secret);
        let signed: Buffer;
        try { signed = signMessage(b, secret); } catch (err) {
          assert.ok(err instanceof RangeError, `signMessage threw ${String(err)}`); // documented: malformed, already signed or too long
          return;
        }
        assert.equal(checkVerify(signed, secret), 'ok');
        const flipped = Buffer.from(signed);
        const i = at % flipped.length;
        flipped[i] = flipped[i]! ^ (1 << bit);
        assert.notEqual(checkVerify(flipped, secret), 'ok', `bit ${bit} of byte ${i} flipped and still ok`);
        assert.notEqual(checkVerify(signed, Buffer.concat([Buffer.from(typeof secret === 'string' ? Buffer.from(secret) : secret), Buffer.of(0x5a)])), 'ok');
        checkDecode(flipped);
      })),
  ],
};
