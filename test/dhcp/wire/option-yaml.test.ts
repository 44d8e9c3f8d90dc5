import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpv4 } from '../../../src/net/ipv4.ts';
import { decodeOption, encodeOption } from '../../../src/dhcp/wire/option-codecs.ts';
import { optionCodeByName } from '../../../src/dhcp/wire/option-table.ts';
import { encodeOptionByName } from '../../../src/dhcp/wire/option-yaml.ts';

const ip = parseIpv4;
const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ''), 'hex');

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
