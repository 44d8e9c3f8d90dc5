// One failover message as a discriminated union by `type`, and the two entry points:
// decodeFailoverMessage (bytes → message, DecodeError only) and encodeFailoverMessage (message →
// bytes, with dialect checks and an optional HMAC digest). Header per digest §1.2.
import { ProtocolError } from '../../errors.ts';
import { signMessage, DIGEST_OPTION_SIZE } from './auth.ts';
import type { WireDialect } from './dialect.ts';
import { HEADER_SIZE, MAX_MESSAGE_SIZE, readHeader } from './header.ts';
import { readOptionList } from './option-list.ts';
import { MAX_ISC_OPTION, MESSAGE_TYPES, SERVER_STATE_CODES, optionName } from './options.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';
import { BINDING_FIELDS, decodeBndack, decodeBndupd, encodeBndack, encodeBndupd, type Bndack, type Bndupd } from './messages/bndupd.ts';
import { decodeConnect, decodeConnectack, encodeConnect, encodeConnectack, type Connect, type Connectack } from './messages/connect.ts';
import { decodeControl, encodeControl, type ControlMessage } from './messages/control.ts';
import { decodeState, encodeState, type State } from './messages/state.ts';

export type { Binding, BindingAck, Bndack, Bndupd } from './messages/bndupd.ts';
export type { Connect, Connectack } from './messages/connect.ts';
export type { Contact, Disconnect, Poolreq, Poolresp, Upddone, Updreq, Updreqall } from './messages/control.ts';
export type { State } from './messages/state.ts';

export type FailoverMessage = ControlMessage | Bndupd | Bndack | Connect | Connectack | State;
export type FailoverMessageType = FailoverMessage['type'];

/** Most binding transactions Windows accepts in one BNDUPD (MS-DHCPF 3.1.4.2). */
export const MS_MAX_BATCH = 16;

export interface DecodeOptions { readonly maxMessageSize?: number }

/**
 * Decodes the message starting at `offset` (bytes after its length are ignored). Throws only
 * DecodeError with a reason from FAILOVER_DECODE_REASONS. A message-digest is checked for position
 * only; verify it with auth.ts `verifyMessage` on the raw bytes.
 */
export function decodeFailoverMessage(buf: Buffer, offset = 0, opts: DecodeOptions = {}): FailoverMessage {
  const h = readHeader(buf, offset, opts.maxMessageSize ?? MAX_MESSAGE_SIZE);
  const list = readOptionList(new Reader(buf, offset + h.payloadOffset, offset + h.length), h.type);
  switch (h.type) {
    case 'BNDUPD': return decodeBndupd(list, h);
    case 'BNDACK': return decodeBndack(list, h);
    case 'CONNECT': return decodeConnect(list, h);
    case 'CONNECTACK': return decodeConnectack(list, h);
    case 'STATE': return decodeState(list, h);
    default: return decodeControl(h.type, list, h);
  }
}

export interface EncodeOptions {
  readonly dialect: WireDialect;
  /** When set, the message is signed (auth.ts); every message on an authenticated link must be. */
  readonly secret?: string | Buffer | undefined;
}

/**
 * Encodes `m` (its `skipped` is ignored). Throws ProtocolError `encode_failed` for a value that does
 * not fit its option, a message over 2048 bytes, or a dialect violation (digest invariant 26):
 * ISC — one transaction per BNDUPD/BNDACK, no option above 29, binding-status 1..7, server-state in
 * 0..11 or 254; MS — at most 16 transactions, binding-status, IP-flags and client subnet mask (33) in
 * every BNDUPD transaction.
 */
export function encodeFailoverMessage(m: FailoverMessage, opts: EncodeOptions): Buffer {
  try {
    checkDialect(m, opts.dialect);
    const w = new Writer(128);
    w.u16(0).u8(MESSAGE_TYPES[m.type]).u8(HEADER_SIZE).u32(m.time).u32(m.xid);
    switch (m.type) {
      case 'BNDUPD': encodeBndupd(m, w); break;
      case 'BNDACK': encodeBndack(m, w); break;
      case 'CONNECT': encodeConnect(m, w); break;
      case 'CONNECTACK': encodeConnectack(m, w); break;
      case 'STATE': encodeState(m, w); break;
      default: encodeControl(m, w);
    }
    const room = MAX_MESSAGE_SIZE - (opts.secret !== undefined ? DIGEST_OPTION_SIZE : 0);
    if (w.length > room) throw new RangeError(`${m.type} is ${w.length} bytes; at most ${room} fit`);
    w.patchU16(0, w.length);
    const bytes = w.finish();
    return opts.secret !== undefined ? signMessage(bytes, opts.secret) : bytes;
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError('encode_failed', `cannot encode ${m.type}: ${(err as Error).message}`, { cause: err });
  }
}

const ISC_SERVER_STATES: ReadonlySet<number> = new Set([0, ...Object.values(SERVER_STATE_CODES)]);
const MS_BINDING_CODES = Object.entries(BINDING_FIELDS).filter(([, code]) => code > MAX_ISC_OPTION).map(([field]) => field);

function violation(dialect: WireDialect, message: string): never {
  throw new ProtocolError('encode_failed', `${dialect} dialect: ${message}`);
}

function checkDialect(m: FailoverMessage, dialect: WireDialect): void {
  if (dialect === 'isc') {
    if (m.type === 'BNDUPD' || m.type === 'BNDACK') {
      const n = m.type === 'BNDUPD' ? m.bindings.length : m.acks.length;
      if (n > 1) violation(dialect, `${m.type} with ${n} transactions (ISC reads a batch as a duplicate option)`);
    }
    if (m.type === 'BNDUPD') {
      for (const b of m.bindings) {
        const ms = MS_BINDING_CODES.filter((f) => (b as Record<string, unknown>)[f] !== undefined);
        if (ms.length > 0) violation(dialect, `BNDUPD carries Microsoft option(s) ${ms.join(', ')}`);
        if (b.bindingStatus !== undefined && (b.bindingStatus < 1 || b.bindingStatus > 7)) violation(dialect, `binding-status ${b.bindingStatus} outside 1..7`);
      }
    }
    if ((m.type === 'UPDREQ' || m.type === 'UPDREQALL') && m.msScopeIds !== undefined) violation(dialect, `${m.type} carries ${optionName(30)}`);
    if (m.type === 'STATE' && !ISC_SERVER_STATES.has(m.serverState)) violation(dialect, `server-state ${m.serverState} not in 0..11 or 254`);
    return;
  }
  if (m.type === 'BNDUPD') {
    if (m.bindings.length > MS_MAX_BATCH) violation(dialect, `BNDUPD with ${m.bindings.length} transactions (max ${MS_MAX_BATCH})`);
    for (const b of m.bindings) {
      if (b.bindingStatus === undefined || b.ipFlags === undefined || b.msClientSubnetMask === undefined) {
        violation(dialect, 'every BNDUPD transaction needs binding-status, ip-flags and ms-client-subnet-mask');
      }
    }
  }
}
