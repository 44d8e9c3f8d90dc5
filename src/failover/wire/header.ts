// The 12-byte failover message header (digest §1.2): length (including itself), type, payload offset,
// sender time (u32 seconds since 1970, UTC), xid. We send payload offset 12 (ISC) and accept ≥ 12,
// skipping any extra header bytes.
import { MESSAGE_TYPE_BY_CODE, type MessageTypeName } from './options.ts';
import { Reader, decodeFail } from './reader.ts';

export const HEADER_SIZE = 12;
/** ISC's limit (digest §1.2); a longer frame is rejected before it is buffered (framing.ts). */
export const MAX_MESSAGE_SIZE = 2048;

export interface FailoverHeader {
  readonly type: MessageTypeName;
  /** Total message length, header included. */
  readonly length: number;
  readonly payloadOffset: number;
  /** Sender's clock, seconds since the Unix epoch. */
  readonly time: number;
  readonly xid: number;
}

/** Reads and checks the header of the message starting at `offset`; the whole message must be present. */
export function readHeader(buf: Buffer, offset = 0, maxSize = MAX_MESSAGE_SIZE): FailoverHeader {
  const r = new Reader(buf, offset);
  const length = r.u16('message length');
  if (length < HEADER_SIZE || length > maxSize) decodeFail('bad_length', `message length ${length} outside ${HEADER_SIZE}..${maxSize}`, offset);
  if (length > buf.length - offset) decodeFail('truncated', `message length ${length} but ${buf.length - offset} byte(s) available`, offset);
  const typeCode = r.u8('message type');
  const type = MESSAGE_TYPE_BY_CODE[typeCode];
  if (type === undefined) decodeFail('unknown_message_type', `unknown message type ${typeCode}`, offset + 2);
  const payloadOffset = r.u8('payload offset');
  if (payloadOffset < HEADER_SIZE || payloadOffset > length) {
    decodeFail('bad_header', `payload offset ${payloadOffset} outside ${HEADER_SIZE}..${length}`, offset + 3);
  }
  const time = r.u32('time');
  const xid = r.u32('xid');
  return { type, length, payloadOffset, time, xid };
}
