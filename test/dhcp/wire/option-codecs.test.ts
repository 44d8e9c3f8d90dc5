import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../../src/errors.ts';
import { parseIpv4 } from '../../../src/net/ipv4.ts';
import type { DhcpMessage } from '../../../src/dhcp/wire/message.ts';
import {
  OPTION_SPECS, Opt, decodeOption, encodeOption, encodeOptionByName, optionCodeByName, optionName,
  getClientId, getHostname, getLeaseTime, getMaxMessageSize, getMessageType, getParameterRequestList,
  getRelayAgentInfo, getRequestedIp, getServerId, getSubnetSelection, type OptionType,
} from '../../../src/dhcp/wire/option-codecs.ts';

const ip = parseIpv4;
const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ''), 'hex');

function msgWith(options: [number, Buffer][]): DhcpMessage {
  return {
    op: 1, htype: 1, hlen: 6, hops: 0, xid: 1, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0,
    chaddr: Buffer.alloc(16), sname: Buffer.alloc(64), file: Buffer.alloc(128), options: new Map(options),
  };
}

describe('option names', () => {
  it('maps the names other modules use to their codes', () => {
    const expected: Record<string, number> = {
      'subnet-mask': 1, 'time-offset': 2, routers: 3, 'domain-name-servers': 6, 'host-name': 12, 'domain-name': 15,
      'interface-mtu': 26, 'broadcast-address': 28, 'static-routes': 33, 'ntp-servers': 42, 'vendor-encapsulated-options': 43,
      'requested-ip-address': 50, 'ip-address-lease-time': 51, 'option-overload': 52, 'dhcp-message-type': 53,
      'server-identifier': 54, 'parameter-request-list': 55, message: 56, 'max-message-size': 57, 'renewal-time': 58,
      'rebinding-time': 59, 'vendor-class-identifier': 60, 'client-identifier': 61, 'tftp-server-name': 66,
      'bootfile-name': 67, fqdn: 81, 'relay-agent-information': 82, 'subnet-selection': 118, 'domain-search': 119,
      'classless-static-routes': 121, 'dhcp-lease-time': 51, 'dhcp-client-identifier': 61,
    };
    for (const [name, code] of Object.entries(expected)) assert.equal(optionCodeByName(name), code, name);
  });
  it('names are unique and round-trip through optionName', () => {
    const seen = new Set<string>();
    for (const [code, spec] of Object.entries(OPTION_SPECS)) {
      assert.ok(!seen.has(spec.name), spec.name);
      seen.add(spec.name);
      assert.equal(optionCodeByName(spec.name), Number(code));
      assert.equal(optionName(Number(code)), spec.name);
    }
  });
  it('accepts option-<n> for 1..254 only', () => {
    assert.equal(optionCodeByName('option-1'), 1);
    assert.equal(optionCodeByName('option-254'), 254);
    assert.equal(optionCodeByName('option-0'), undefined);
    assert.equal(optionCodeByName('option-255'), undefined);
    assert.equal(optionCodeByName('option-x'), undefined);
    assert.equal(optionCodeByName('nope'), undefined);
    assert.equal(optionName(200), 'option-200');
  });
  it('Opt constants agree with the table', () => {
    assert.equal(OPTION_SPECS[Opt.REQUESTED_IP]?.name, 'requested-ip-address');
    assert.equal(OPTION_SPECS[Opt.RELAY_AGENT_INFO]?.name, 'relay-agent-information');
    assert.equal(OPTION_SPECS[Opt.CLASSLESS_STATIC_ROUTES]?.name, 'classless-static-routes');
  });
});

describe('encodeOptionByName (config values)', () => {
  const table: { name: string; value: unknown; hex: string; decoded: unknown }[] = [
    { name: 'subnet-mask', value: '255.255.255.0', hex: 'ffffff00', decoded: ip('255.255.255.0') },
    { name: 'routers', value: ['10.0.0.1'], hex: '0a000001', decoded: [ip('10.0.0.1')] },
    { name: 'routers', value: '10.0.0.1', hex: '0a000001', decoded: [ip('10.0.0.1')] },
    { name: 'domain-name-servers', value: '10.0.0.1, 10.0.0.2', hex: '0a0000010a000002', decoded: [ip('10.0.0.1'), ip('10.0.0.2')] },
    { name: 'domain-name', value: 'example.com', hex: '6578616d706c652e636f6d', decoded: 'example.com' },
    { name: 'time-offset', value: -3600, hex: 'fffff1f0', decoded: -3600 },
    { name: 'interface-mtu', value: 1500, hex: '05dc', decoded: 1500 },
    { name: 'default-ip-ttl', value: 64, hex: '40', decoded: 64 },
    { name: 'ip-address-lease-time', value: 86400, hex: '00015180', decoded: 86400 },
    { name: 'ip-forwarding', value: true, hex: '01', decoded: true },
    { name: 'ip-forwarding', value: 'off', hex: '00', decoded: false },
    { name: 'vendor-encapsulated-options', value: '01:04:0a:00:00:01', hex: '01040a000001', decoded: hex('01040a000001') },
    { name: 'vendor-encapsulated-options', value: '0x0104', hex: '0104', decoded: hex('0104') },
    { name: 'option-200', value: 'aabbcc', hex: 'aabbcc', decoded: hex('aabbcc') },
    { name: 'option-3', value: ['10.0.0.1'], hex: '0a000001', decoded: [ip('10.0.0.1')] },
    { name: 'static-routes', value: [{ destination: '10.0.0.0', router: '10.1.1.1' }], hex: '0a0000000a010101',
      decoded: [{ destination: ip('10.0.0.0'), router: ip('10.1.1.1') }] },
    { name: 'static-routes', value: [['10.0.0.0', '10.1.1.1']], hex: '0a0000000a010101',
      decoded: [{ destination: ip('10.0.0.0'), router: ip('10.1.1.1') }] },
    // RFC 3442 §3 examples: 10.17.0.0/16 → 10 11 (0x0a 0x11), 10.27.129.0/24, 10.229.0.128/25, 0/0.
    { name: 'classless-static-routes', value: [
      { destination: '10.17.0.0/16', router: '10.1.1.1' }, { destination: '10.229.0.128/25', router: '10.1.1.2' },
      { destination: '0.0.0.0/0', router: '10.0.0.1' }],
      hex: '100a11 0a010101 190ae50080 0a010102 00 0a000001'.replace(/ /g, ''),
      decoded: [{ destination: ip('10.17.0.0'), prefix: 16, router: ip('10.1.1.1') },
        { destination: ip('10.229.0.128'), prefix: 25, router: ip('10.1.1.2') },
        { destination: 0, prefix: 0, router: ip('10.0.0.1') }] },
    // RFC 3397 §3 example: eng.apple.com, marketing.apple.com with a pointer to "apple.com" at offset 4.
    { name: 'domain-search', value: ['eng.apple.com', 'marketing.apple.com'],
      hex: '03656e67056170706c6503636f6d00 096d61726b6574696e67 c004'.replace(/ /g, ''),
      decoded: ['eng.apple.com', 'marketing.apple.com'] },
    { name: 'client-identifier', value: '01:aa:bb:cc:dd:ee:ff', hex: '01aabbccddeeff', decoded: { type: 1, id: hex('aabbccddeeff') } },
    { name: 'client-identifier', value: { type: 0, id: '6162' }, hex: '006162', decoded: { type: 0, id: hex('6162') } },
    { name: 'fqdn', value: { flags: 0x05, name: 'host.example.com.' }, hex: '050000 04686f7374076578616d706c6503636f6d00'.replace(/ /g, ''),
      decoded: { flags: 5, rcode1: 0, rcode2: 0, name: 'host.example.com.' } },
    { name: 'fqdn', value: { flags: 0x04, name: 'host' }, hex: '040000 04686f7374'.replace(/ /g, ''),
      decoded: { flags: 4, rcode1: 0, rcode2: 0, name: 'host' } },
    { name: 'fqdn', value: 'host.example', hex: '000000686f73742e6578616d706c65', decoded: { flags: 0, rcode1: 0, rcode2: 0, name: 'host.example' } },
    { name: 'subnet-selection', value: '10.3.0.0', hex: '0a030000', decoded: ip('10.3.0.0') },
    { name: 'parameter-request-list', value: [1, 3, 6], hex: '010306', decoded: [1, 3, 6] },
    { name: 'path-mtu-plateau-table', value: [1500, 576], hex: '05dc0240', decoded: [1500, 576] },
  ];
  for (const t of table) {
    it(`${t.name} ${JSON.stringify(t.value)}`, () => {
      const { code, data } = encodeOptionByName(t.name, t.value);
      assert.equal(code, optionCodeByName(t.name));
      assert.equal(data.toString('hex'), t.hex);
      assert.deepEqual(decodeOption(code, data), t.decoded);
      assert.deepEqual(encodeOption(code, decodeOption(code, data)), data);
    });
  }

  it('relay-agent-information from a mapping', () => {
    const { data } = encodeOptionByName('relay-agent-information', {
      circuitId: '00:01', 'remote-id': 'aabb', linkSelection: '10.2.0.0', subscriberId: 'sub1', serverIdOverride: '10.0.0.2',
    });
    assert.equal(data.toString('hex'), '01020001' + '0202aabb' + '05040a020000' + '060473756231' + '0b040a000002');
    const info = decodeOption(82, data) as { linkSelection: number; subscriberId: string };
    assert.equal(info.linkSelection, ip('10.2.0.0'));
    assert.equal(info.subscriberId, 'sub1');
  });

  const bad: { name: string; value: unknown; message: RegExp }[] = [
    { name: 'no-such-option', value: 1, message: /unknown option name "no-such-option"/ },
    { name: 'routers', value: 3, message: /routers.*expected a list of IPv4 addresses/ },
    { name: 'routers', value: ['10.0.0.256'], message: /routers.*IPv4/ },
    { name: 'routers', value: [], message: /non-empty list/ },
    { name: 'subnet-mask', value: ['255.0.0.0'], message: /subnet-mask.*IPv4 address/ },
    { name: 'interface-mtu', value: 70000, message: /interface-mtu.*0\.\.65535/ },
    { name: 'interface-mtu', value: 1.5, message: /0\.\.65535/ },
    { name: 'default-ip-ttl', value: -1, message: /0\.\.255/ },
    { name: 'ip-forwarding', value: 'yes please', message: /true or false/ },
    { name: 'domain-name', value: '', message: /non-empty string/ },
    { name: 'option-200', value: 1234, message: /hex bytes as a quoted string/ },
    { name: 'option-200', value: 'abc', message: /even number of hex digits/ },
    { name: 'classless-static-routes', value: [{ destination: '10.0.0.1/8', router: '10.0.0.1' }], message: /host bits/ },
    { name: 'classless-static-routes', value: ['10.0.0.0/8'], message: /destination: "10\.0\.0\.0\/8"/ },
    { name: 'domain-search', value: ['bad name.com'], message: /bad label/ },
    { name: 'domain-search', value: [], message: /non-empty list of domain names/ },
    { name: 'relay-agent-information', value: { circuit: 'aa' }, message: /unknown sub-option "circuit"/ },
    { name: 'client-identifier', value: '', message: /at least one byte/ },
  ];
  for (const t of bad) {
    it(`rejects ${t.name} ${JSON.stringify(t.value)}`, () => {
      assert.throws(() => encodeOptionByName(t.name, t.value), (err: Error) =>
        (err instanceof TypeError || err instanceof RangeError) && t.message.test(err.message));
    });
  }
});

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

describe('hot-path accessors', () => {
  const m = msgWith([
    [53, Buffer.of(3)], [50, hex('0a000005')], [54, hex('0a000002')], [61, hex('01AABBCCDDEEFF')], [55, hex('01030f2a')],
    [57, hex('05dc')], [12, Buffer.from('laptop\0')], [51, hex('00000e10')], [118, hex('0a030000')],
    [82, hex('0104 00010203 0504 0a020000 0b04 0a000009 0902 ffff'.replace(/ /g, ''))],
  ]);
  it('read typed values straight from the raw payloads', () => {
    assert.equal(getMessageType(m), 3);
    assert.equal(getRequestedIp(m), ip('10.0.0.5'));
    assert.equal(getServerId(m), ip('10.0.0.2'));
    assert.equal(getClientId(m), '01aabbccddeeff');
    assert.deepEqual(getParameterRequestList(m), [1, 3, 15, 42]);
    assert.equal(getMaxMessageSize(m), 1500);
    assert.equal(getHostname(m), 'laptop');
    assert.equal(getLeaseTime(m), 3600);
    assert.equal(getSubnetSelection(m), ip('10.3.0.0'));
    const info = getRelayAgentInfo(m);
    assert.ok(info);
    assert.deepEqual(info.circuitId, hex('00010203'));
    assert.equal(info.linkSelection, ip('10.2.0.0'));
    assert.equal(info.serverIdOverride, ip('10.0.0.9'));
    assert.deepEqual(info.other, [{ code: 9, data: hex('ffff') }]);
    assert.deepEqual(info.raw, m.options.get(82));
  });
  it('absent or wrong-length payloads read as undefined, never throw', () => {
    const empty = msgWith([]);
    for (const get of [getMessageType, getRequestedIp, getServerId, getClientId, getParameterRequestList, getMaxMessageSize,
      getHostname, getLeaseTime, getSubnetSelection, getRelayAgentInfo]) assert.equal(get(empty), undefined);
    const badLen = msgWith([[53, hex('0102')], [50, hex('0a00')], [57, hex('05')], [82, hex('0109aa')], [12, hex('0000')], [61, hex('')]]);
    assert.equal(getMessageType(badLen), undefined);
    assert.equal(getRequestedIp(badLen), undefined);
    assert.equal(getMaxMessageSize(badLen), undefined);
    assert.equal(getRelayAgentInfo(badLen), undefined);
    assert.equal(getHostname(badLen), undefined);
    assert.equal(getClientId(badLen), undefined);
  });
});
