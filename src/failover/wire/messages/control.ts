// The small messages: POOLREQ (1), POOLRESP (2), UPDREQALL (7), UPDDONE (8), UPDREQ (9), CONTACT (11),
// DISCONNECT (12) (digest §2). Each is header + a few fields; POOLRESP requires addresses-transferred.
import type { FailoverHeader } from '../header.ts';
import type { OptionList } from '../option-list.ts';
import type { Writer } from '../writer.ts';
import { base, checkRequired, readFields, writeFields, type FieldMap, type FieldsOf, type MessageBase } from './fields.ts';

export const CONTROL_FIELDS = {
  POOLREQ: {},
  POOLRESP: { addressesTransferred: 1 },
  /** MS: Scope ID List (30) limits the resync to those scopes. */
  UPDREQALL: { msScopeIds: 30 },
  UPDDONE: {},
  UPDREQ: { msScopeIds: 30 },
  /** Our own servers: the pool ownership handover (ownership-option.ts); foreign partners never get it. */
  CONTACT: { vendorOptions: 29 },
  DISCONNECT: { rejectReason: 21, message: 16 },
} as const satisfies Record<string, FieldMap>;
export type ControlType = keyof typeof CONTROL_FIELDS;

export type Poolreq = MessageBase & { readonly type: 'POOLREQ' };
export type Poolresp = MessageBase & { readonly type: 'POOLRESP'; readonly addressesTransferred: number };
export type Updreqall = MessageBase & FieldsOf<typeof CONTROL_FIELDS.UPDREQALL> & { readonly type: 'UPDREQALL' };
export type Upddone = MessageBase & { readonly type: 'UPDDONE' };
export type Updreq = MessageBase & FieldsOf<typeof CONTROL_FIELDS.UPDREQ> & { readonly type: 'UPDREQ' };
export type Contact = MessageBase & FieldsOf<typeof CONTROL_FIELDS.CONTACT> & { readonly type: 'CONTACT' };
export type Disconnect = MessageBase & FieldsOf<typeof CONTROL_FIELDS.DISCONNECT> & { readonly type: 'DISCONNECT' };
export type ControlMessage = Poolreq | Poolresp | Updreqall | Upddone | Updreq | Contact | Disconnect;

export function decodeControl<T extends ControlType>(type: T, list: OptionList, h: FailoverHeader): Extract<ControlMessage, { type: T }> {
  const g = list.groups[0]!;
  checkRequired(type, g);
  const fields: FieldMap = CONTROL_FIELDS[type];
  return { type, ...base(h, list.skipped), ...readFields(g, fields) } as unknown as Extract<ControlMessage, { type: T }>;
}

export function encodeControl(m: ControlMessage, w: Writer): void {
  const fields: FieldMap = CONTROL_FIELDS[m.type];
  writeFields(m as unknown as FieldsOf<FieldMap>, fields, w);
}
