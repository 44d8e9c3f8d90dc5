// CONNECT (5) and CONNECTACK (6), digest §1.5. Every field is optional on decode: a CONNECT without
// MCLT or HBA must still decode so that the peer can reject it with the spec's reason (5, 18, 8 …).
import type { FailoverHeader } from '../header.ts';
import type { OptionList } from '../option-list.ts';
import type { Writer } from '../writer.ts';
import { base, readFields, writeFields, type FieldsOf, type MessageBase } from './fields.ts';

/** In ISC's sending order (digest §1.5). */
export const CONNECT_FIELDS = {
  relationshipName: 22,
  maxUnackedBndupd: 14,
  receiveTimer: 19,
  vendorClassIdentifier: 28,
  protocolVersion: 20,
  tlsRequest: 27,
  /** Maximum client lead time, seconds. */
  mclt: 15,
  /** hash-bucket-assignment: 32-byte bitmap (polarity is a dialect setting, load-balance.ts). */
  hba: 11,
  delayedServiceParameter: 10,
  vendorOptions: 29,
} as const;

export const CONNECTACK_FIELDS = {
  relationshipName: 22,
  maxUnackedBndupd: 14,
  receiveTimer: 19,
  vendorClassIdentifier: 28,
  protocolVersion: 20,
  tlsReply: 26,
  rejectReason: 21,
  message: 16,
  vendorOptions: 29,
} as const;

export type Connect = MessageBase & FieldsOf<typeof CONNECT_FIELDS> & { readonly type: 'CONNECT' };
export type Connectack = MessageBase & FieldsOf<typeof CONNECTACK_FIELDS> & { readonly type: 'CONNECTACK' };

export function decodeConnect(list: OptionList, h: FailoverHeader): Connect {
  return { type: 'CONNECT', ...base(h, list.skipped), ...readFields(list.groups[0]!, CONNECT_FIELDS) };
}

export function encodeConnect(m: Connect, w: Writer): void {
  writeFields(m, CONNECT_FIELDS, w);
}

export function decodeConnectack(list: OptionList, h: FailoverHeader): Connectack {
  return { type: 'CONNECTACK', ...base(h, list.skipped), ...readFields(list.groups[0]!, CONNECTACK_FIELDS) };
}

export function encodeConnectack(m: Connectack, w: Writer): void {
  writeFields(m, CONNECTACK_FIELDS, w);
}
