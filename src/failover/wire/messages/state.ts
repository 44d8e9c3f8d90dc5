// STATE (10), digest §2: server-state (required), server-flags, start-time-of-state. The state is the
// wire number (SERVER_STATE_CODES / serverStateFromWire in options.ts), so an unexpected value from a
// peer still decodes and the state machine decides what to do with it.
import type { FailoverHeader } from '../header.ts';
import type { OptionList } from '../option-list.ts';
import type { Writer } from '../writer.ts';
import { base, checkRequired, readFields, writeFields, type FieldsOf, type MessageBase } from './fields.ts';

export const STATE_FIELDS = {
  serverState: 24,
  /** SERVER_FLAGS.STARTUP = 0x01. */
  serverFlags: 23,
  /** When the sender entered its state (STOS), seconds since the epoch. */
  startTimeOfState: 25,
} as const;

export type State = MessageBase & FieldsOf<typeof STATE_FIELDS> & { readonly type: 'STATE'; readonly serverState: number };

export function decodeState(list: OptionList, h: FailoverHeader): State {
  const g = list.groups[0]!;
  checkRequired('STATE', g);
  return { type: 'STATE', ...base(h, list.skipped), ...(readFields(g, STATE_FIELDS) as FieldsOf<typeof STATE_FIELDS> & { serverState: number }) };
}

export function encodeState(m: State, w: Writer): void {
  writeFields(m, STATE_FIELDS, w);
}
