import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../../src/errors.ts';
import { decodeOption, encodeOption } from '../../../src/dhcp/wire/option-codecs.ts';
import { OPTION_SPECS, type OptionType } from '../../../src/dhcp/wire/option-table.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ''), 'hex');

describe('decodeOption', () => {
  it('returns the Buffer for codes outside the table', () => {
    const b = hex('0102');
    assert.equal(decodeOption(200, b), b);
  });
  const malformed: [number, string][] = [
    [1, '0a0000'], [3, '0a00000102'], [3, ''], [51, '000001'], [19, '02'], [33, '0a000000'],
    [121, '21 0a000000 0a000001'], [121, '18 0a0000'], [121, '08 0a01 0a000001'.replace(/ /g, '')],
    [119, '03656e67'], [119, 'c000'], [119, '01 61 c000'.replace(/ /g, '')], [81, '0500'], [81, '040000 c000'.replace(/ /g, '')],
    [82, '0105aabb'], [82, '01'], [61, ''],
  ];
  for (const [code, h] of malformed) {
    it(`rejects malformed option ${code} payload ${h || '(empty)'}`, () => {
      assert.throws(() => decodeOption(code, hex(h.replace(/ /g, ''))), (e: unknown) => e instanceof DecodeError && e.code === 'bad_option_value');
    });
  }
  it('RFC 4702 ASCII name when E is clear, keeps unknown relay sub-options', () => {
    assert.deepEqual(decodeOption(81, Buffer.from('\x01\xff\xffmy-host', 'latin1')), { flags: 1, rcode1: 255, rcode2: 255, name: 'my-host' });
    const info = decodeOption(82, hex('0901ff 0102abcd')) as { other: unknown[]; circuitId: Buffer };
    assert.deepEqual(info.other, [{ code: 9, data: hex('ff') }]);
    assert.deepEqual(info.circuitId, hex('abcd'));
  });
});

// Typed-value arbitraries per option type, in the shapes decodeOption returns.
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const label = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
const domain = fc.array(label, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.'));
const classless = fc.tuple(u32, fc.integer({ min: 0, max: 32 }), u32).map(([d, prefix, router]) => ({
  destination: prefix === 0 ? 0 : (d & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0, prefix, router,
}));
const ARBS: Record<OptionType, fc.Arbitrary<unknown>> = {
  ip: u32,
  ips: fc.array(u32, { minLength: 1, maxLength: 70 }),
  u8: fc.integer({ min: 0, max: 255 }),
  u16: fc.integer({ min: 0, max: 0xffff }),
  u32,
  i32: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  string: fc.string({ minLength: 1, maxLength: 300 }).filter((s) => Buffer.from(s).toString() === s),
  bool: fc.boolean(),
  bytes: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  u8s: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 300 }),
  u16s: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 20 }),
  'ip-pairs': fc.array(fc.record({ destination: u32, router: u32 }).map((o) => ({ ...o })), { minLength: 1, maxLength: 40 }),
  'domain-list': fc.array(domain, { minLength: 1, maxLength: 30 }),
  'classless-routes': fc.array(classless, { minLength: 1, maxLength: 30 }),
  fqdn: fc.oneof(
    fc.record({ flags: fc.integer({ min: 0, max: 255 }).map((f) => f & ~4), rcode1: fc.integer({ min: 0, max: 255 }),
      rcode2: fc.integer({ min: 0, max: 255 }), name: fc.stringMatching(/^[ -~]{0,40}$/) }),
    fc.record({ flags: fc.integer({ min: 0, max: 255 }).map((f) => f | 4), rcode1: fc.constant(0), rcode2: fc.constant(0),
      name: fc.tuple(fc.option(domain, { nil: '' }), fc.boolean()).map(([n, full]) => (n !== '' && full ? `${n}.` : n)) }),
  ),
  'relay-agent': fc.record({
    circuitId: fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: undefined }),
    remoteId: fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: undefined }),
    linkSelection: fc.option(u32, { nil: undefined }),
    subscriberId: fc.option(fc.stringMatching(/^[ -~]{0,20}$/), { nil: undefined }),
    serverIdOverride: fc.option(u32, { nil: undefined }),
    other: fc.array(fc.record({ code: fc.constantFrom(3, 4, 7, 9, 151), data: fc.uint8Array({ maxLength: 10 }).map((a) => Buffer.from(a)) }).map((o) => ({ ...o })), { maxLength: 3 }),
  }, { requiredKeys: ['other'] }).filter((r) => Object.values(r).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0))),
  'client-id': fc.record({ type: fc.integer({ min: 0, max: 255 }), id: fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a)) }),
};

function stripUndefined(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k, x]) => x !== undefined && k !== 'raw'));
}

describe('typed round-trips for every option in the table', () => {
  for (const [codeText, spec] of Object.entries(OPTION_SPECS)) {
    const code = Number(codeText);
    it(`${code} ${spec.name} (${spec.type})`, () => {
      fc.assert(fc.property(ARBS[spec.type], (value) => {
        const data = encodeOption(code, value);
        const back = decodeOption(code, data);
        assert.deepEqual(stripUndefined(back), stripUndefined(value));
        assert.deepEqual(encodeOption(code, back), data);
      }), { numRuns: 60, seed: code });
    });
  }
});
