import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OPTION_SPECS, Opt, optionCodeByName, optionName } from '../../../src/dhcp/wire/option-table.ts';

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
