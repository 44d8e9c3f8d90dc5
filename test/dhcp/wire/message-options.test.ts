import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpv4 } from '../../../src/net/ipv4.ts';
import type { DhcpMessage } from '../../../src/dhcp/wire/message.ts';
import {
  getClientId, getHostname, getLeaseTime, getMaxMessageSize, getMessageType, getParameterRequestList,
  getRelayAgentInfo, getRequestedIp, getServerId, getSubnetSelection,
} from '../../../src/dhcp/wire/message-options.ts';

const ip = parseIpv4;
const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ''), 'hex');

function msgWith(options: [number, Buffer][]): DhcpMessage {
  return {
    op: 1, htype: 1, hlen: 6, hops: 0, xid: 1, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0,
    chaddr: Buffer.alloc(16), sname: Buffer.alloc(64), file: Buffer.alloc(128), options: new Map(options),
  };
}

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
