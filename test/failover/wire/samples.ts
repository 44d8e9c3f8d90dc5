// One or more sample messages of every type, used by the round-trip, truncation and framing tests.
import { parseIpv4 } from '../../../src/net/ipv4.ts';
import type { FailoverMessage } from '../../../src/failover/wire/message.ts';

const T = 1_700_000_000;
const ip = parseIpv4;
const mac = { htype: 1, address: Buffer.from('525400123456', 'hex') };
const hba = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.alloc(16, 0)]);

export const ISC_SAMPLES: readonly FailoverMessage[] = [
  { type: 'POOLREQ', xid: 1, time: T },
  { type: 'POOLRESP', xid: 1, time: T, addressesTransferred: 42 },
  {
    type: 'BNDUPD', xid: 2, time: T, bindings: [{
      assignedIpAddress: ip('10.97.0.100'), bindingStatus: 2, clientIdentifier: Buffer.from('01525400123456', 'hex'),
      clientHardwareAddress: mac, leaseExpirationTime: T + 600, potentialExpirationTime: T + 3900,
      startTimeOfState: T, clientLastTransactionTime: T, ipFlags: 0x0002,
      ddns: { flags: 0x0003, fqdn: Buffer.from('\x04host\x07example\x00', 'latin1') },
      clientRequestOptions: Buffer.from('63825363' + '0c04686f7374', 'hex'),
      clientReplyOptions: Buffer.from('63825363' + '3a04000001' + '2c', 'hex'),
    }],
  },
  { type: 'BNDUPD', xid: 3, time: T, bindings: [{ assignedIpAddress: ip('10.97.0.101'), bindingStatus: 7 }] },
  { type: 'BNDACK', xid: 2, time: T, acks: [{ assignedIpAddress: ip('10.97.0.100') }] },
  { type: 'BNDACK', xid: 3, time: T, acks: [{ assignedIpAddress: ip('10.97.0.101'), rejectReason: 15, message: 'outdated binding' }] },
  {
    type: 'CONNECT', xid: 0, time: T, relationshipName: 'lab-fo', maxUnackedBndupd: 10, receiveTimer: 30,
    vendorClassIdentifier: 'isc-4.4.3-P1', protocolVersion: 1, tlsRequest: 0, mclt: 600, hba,
    delayedServiceParameter: 4, vendorOptions: [{ code: 1, data: Buffer.from('ab', 'hex') }, { code: 2, data: Buffer.alloc(0) }],
  },
  { type: 'CONNECTACK', xid: 0, time: T, relationshipName: 'lab-fo', maxUnackedBndupd: 10, receiveTimer: 30, vendorClassIdentifier: 'isc-4.4.3-P1', protocolVersion: 1, tlsReply: 0 },
  { type: 'CONNECTACK', xid: 0, time: T, relationshipName: 'lab-fo', protocolVersion: 1, rejectReason: 4, message: 'time mismatch' },
  { type: 'UPDREQALL', xid: 4, time: T },
  { type: 'UPDDONE', xid: 4, time: T },
  { type: 'UPDREQ', xid: 5, time: T },
  { type: 'STATE', xid: 6, time: T, serverState: 2, serverFlags: 0, startTimeOfState: T - 100 },
  { type: 'STATE', xid: 7, time: T, serverState: 254, serverFlags: 1, startTimeOfState: 0 },
  { type: 'CONTACT', xid: 8, time: 0xffffffff },
  { type: 'DISCONNECT', xid: 9, time: T, rejectReason: 17, message: 'no traffic' },
];

export const MS_SAMPLES: readonly FailoverMessage[] = [
  {
    type: 'BNDUPD', xid: 10, time: T, bindings: [
      {
        assignedIpAddress: ip('192.168.1.10'), bindingStatus: 1, ipFlags: 0, clientHardwareAddress: mac, msClientSubnetMask: ip('255.255.255.0'),
        clientLastTransactionTime: T, leaseExpirationTime: T + 3600, potentialExpirationTime: T + 7200,
        msClientName: 'pc-01.example', msClientDescription: '', msServerIp: ip('192.168.1.2'), msServerName: 'dhcp-a',
        msClientType: 1, msClientNapStatus: Buffer.from([0]), msClientNapProbation: Buffer.alloc(4), msClientNapCapable: 0,
        msClientMatchedPolicy: 'Policy Ünïcode', msExtendedAddressState: 1,
      },
      { assignedIpAddress: ip('192.168.1.11'), bindingStatus: 2, ipFlags: 0, msClientSubnetMask: ip('255.255.255.0') },
    ],
  },
  { type: 'BNDACK', xid: 10, time: T, acks: [{ assignedIpAddress: ip('192.168.1.10') }, { assignedIpAddress: ip('192.168.1.11'), rejectReason: 15 }] },
  { type: 'UPDREQ', xid: 11, time: T, msScopeIds: [ip('192.168.1.0'), ip('10.0.0.0')] },
  { type: 'UPDREQALL', xid: 12, time: T, msScopeIds: [ip('192.168.1.0')] },
];
