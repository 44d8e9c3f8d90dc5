// BNDUPD (3) and BNDACK (4): one or more binding transactions, each starting with assigned-IP-address
// (digest §2, §2.1, §1.9). Values are as on the wire: binding-status and IP-flags are dialect-specific
// numbers (dialect.ts maps them), times are u32 seconds since the epoch.
import type { Ipv4 } from '../../../net/ipv4.ts';
import type { FailoverHeader } from '../header.ts';
import type { OptionList } from '../option-list.ts';
import type { Writer } from '../writer.ts';
import { base, checkRequired, readFields, writeFields, type FieldsOf, type MessageBase } from './fields.ts';

/** Field → option code, in the order we write them (assigned-IP-address first, as the draft requires). */
export const BINDING_FIELDS = {
  assignedIpAddress: 2,
  bindingStatus: 3,
  ipFlags: 12,
  clientIdentifier: 4,
  clientHardwareAddress: 5,
  /** lease-expiration-time: what the client was told. */
  leaseExpirationTime: 13,
  /** potential-expiration-time (PET). */
  potentialExpirationTime: 18,
  /** start-time-of-state (STOS) of the binding. */
  startTimeOfState: 25,
  /** client-last-transaction-time (CLTT). */
  clientLastTransactionTime: 6,
  ddns: 9,
  clientRequestOptions: 8,
  clientReplyOptions: 7,
  vendorOptions: 29,
  msClientName: 31,
  msClientDescription: 32,
  msClientSubnetMask: 33,
  msServerIp: 34,
  msServerName: 35,
  msClientType: 36,
  msClientNapStatus: 37,
  msClientNapProbation: 38,
  msClientNapCapable: 39,
  msClientMatchedPolicy: 40,
  msExtendedAddressState: 41,
} as const;

export const BINDING_ACK_FIELDS = { assignedIpAddress: 2, rejectReason: 21, message: 16 } as const;

export type Binding = FieldsOf<typeof BINDING_FIELDS> & { readonly assignedIpAddress: Ipv4 };
export type BindingAck = FieldsOf<typeof BINDING_ACK_FIELDS> & { readonly assignedIpAddress: Ipv4 };

export interface Bndupd extends MessageBase { readonly type: 'BNDUPD'; readonly bindings: readonly Binding[] }
export interface Bndack extends MessageBase { readonly type: 'BNDACK'; readonly acks: readonly BindingAck[] }

export function decodeBndupd(list: OptionList, h: FailoverHeader): Bndupd {
  const bindings = list.groups.map((g) => { checkRequired('BNDUPD', g); return readFields(g, BINDING_FIELDS) as Binding; });
  return { type: 'BNDUPD', ...base(h, list.skipped), bindings };
}

export function encodeBndupd(m: Bndupd, w: Writer): void {
  if (m.bindings.length === 0) throw new RangeError('BNDUPD needs at least one binding');
  for (const b of m.bindings) writeFields(b, BINDING_FIELDS, w);
}

export function decodeBndack(list: OptionList, h: FailoverHeader): Bndack {
  const acks = list.groups.map((g) => { checkRequired('BNDACK', g); return readFields(g, BINDING_ACK_FIELDS) as BindingAck; });
  return { type: 'BNDACK', ...base(h, list.skipped), acks };
}

export function encodeBndack(m: Bndack, w: Writer): void {
  if (m.acks.length === 0) throw new RangeError('BNDACK needs at least one address');
  for (const a of m.acks) writeFields(a, BINDING_ACK_FIELDS, w);
}
