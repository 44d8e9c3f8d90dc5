// LOCAL ADAPTER between the runtime and src/failover/wire/**: when this runtime was written the wire
// codec did not exist yet, so messages here are a generic view (header + ordered TLV options, digest
// §1.2-1.3) built by the helpers at the bottom. Framing (FrameReader) and the message digest
// (HMAC-SHA256 as the LAST option, wire/auth.ts) are the wire module's; test/failover/link-codec.test.ts
// checks that every message the runtime sends decodes with wire's decodeFailoverMessage. Moving the
// runtime to wire's typed messages (and its ISC/MS dialect checks) is the next step.
import { DecodeError } from '../errors.ts';
import { signMessage, verifyMessage } from './wire/auth.ts';
import { FrameReader as WireFrameReader } from './wire/framing.ts';

export const MessageType = {
  POOLREQ: 1, POOLRESP: 2, BNDUPD: 3, BNDACK: 4, CONNECT: 5, CONNECTACK: 6, UPDREQALL: 7, UPDDONE: 8,
  UPDREQ: 9, STATE: 10, CONTACT: 11, DISCONNECT: 12,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];
export const MESSAGE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k]));

export const Opt = {
  ASSIGNED_IP: 2, BINDING_STATUS: 3, CLIENT_ID: 4, CHADDR: 5, CLTT: 6, HBA: 11, IP_FLAGS: 12, LEASE_EXPIRATION: 13,
  MAX_UNACKED: 14, MCLT: 15, MESSAGE: 16, DIGEST: 17, PET: 18, RECEIVE_TIMER: 19, PROTOCOL_VERSION: 20,
  REJECT_REASON: 21, RELATIONSHIP: 22, SERVER_FLAGS: 23, SERVER_STATE: 24, STOS: 25, TLS_REPLY: 26, TLS_REQUEST: 27,
  VENDOR_CLASS: 28,
} as const;

export const HEADER_BYTES = 12;
export const MAX_MESSAGE_BYTES = 2048;
/** Digest option value: 1 type byte + 32 HMAC-SHA256 bytes (wire/auth.ts). */
const DIGEST_VALUE_BYTES = 33;

export interface FoOption { readonly code: number; readonly value: Buffer }
export interface FoMessage {
  readonly type: number;
  /** Sender's clock, seconds since the epoch. */
  readonly time: number;
  readonly xid: number;
  readonly options: readonly FoOption[];
}

/** Encodes a message; with `secret`, appends the message-digest option (wire/auth.ts). Throws if it would exceed 2048 bytes. */
export function encodeMessage(m: FoMessage, secret?: Buffer): Buffer {
  const opts = m.options.filter((o) => o.code !== Opt.DIGEST);
  let len = HEADER_BYTES;
  for (const o of opts) len += 4 + o.value.length;
  if (len + (secret !== undefined ? 4 + DIGEST_VALUE_BYTES : 0) > MAX_MESSAGE_BYTES) {
    throw new DecodeError('too_long', `message of ${len} bytes (+ digest) exceeds ${MAX_MESSAGE_BYTES}`);
  }
  const buf = Buffer.alloc(len);
  buf.writeUInt16BE(len, 0);
  buf.writeUInt8(m.type, 2);
  buf.writeUInt8(HEADER_BYTES, 3);
  buf.writeUInt32BE(m.time >>> 0, 4);
  buf.writeUInt32BE(m.xid >>> 0, 8);
  let off = HEADER_BYTES;
  for (const o of opts) {
    buf.writeUInt16BE(o.code, off); buf.writeUInt16BE(o.value.length, off + 2); o.value.copy(buf, off + 4);
    off += 4 + o.value.length;
  }
  return secret === undefined ? buf : signMessage(buf, secret);
}

/** Decodes one whole frame. Options past the end, a payload offset < 12 or a length mismatch → DecodeError. */
export function decodeMessage(frame: Buffer): FoMessage {
  if (frame.length < HEADER_BYTES) throw new DecodeError('truncated', 'shorter than the header', 0);
  const len = frame.readUInt16BE(0);
  if (len !== frame.length) throw new DecodeError('bad_length', `length field ${len} ≠ frame ${frame.length}`, 0);
  const payload = frame.readUInt8(3);
  if (payload < HEADER_BYTES || payload > len) throw new DecodeError('bad_payload_offset', `payload offset ${payload}`, 3);
  const options: FoOption[] = [];
  let off = payload;
  while (off < len) {
    if (off + 4 > len) throw new DecodeError('truncated_option', 'option header past the end', off);
    const code = frame.readUInt16BE(off);
    const olen = frame.readUInt16BE(off + 2);
    if (off + 4 + olen > len) throw new DecodeError('option_overrun', `option ${code} runs past the end`, off);
    options.push({ code, value: frame.subarray(off + 4, off + 4 + olen) });
    off += 4 + olen;
  }
  return { type: frame.readUInt8(2), time: frame.readUInt32BE(4), xid: frame.readUInt32BE(8), options };
}

export type DigestCheck = 'ok' | 'missing' | 'bad' | 'unexpected';

/** With a secret: the digest must be present, last, and verify (wire/auth.ts). Without: none may be present (reason 13). */
export function checkDigest(frame: Buffer, m: FoMessage, secret: Buffer | undefined): DigestCheck {
  if (secret === undefined) return m.options.some((o) => o.code === Opt.DIGEST) ? 'unexpected' : 'ok';
  return verifyMessage(frame, secret);
}

/** Incremental framing (wire/framing.ts): push TCP chunks, get whole frames (copies). Throws DecodeError on a bad length. */
export class FrameReader {
  private readonly inner = new WireFrameReader();
  push(chunk: Buffer): Buffer[] { return this.inner.push(chunk).map((f) => Buffer.from(f)); }
  get buffered(): number { return this.inner.buffered; }
}

// ---------------------------------------------------------------- option helpers

export const u8 = (code: number, v: number): FoOption => ({ code, value: Buffer.from([v & 0xff]) });
export const u16 = (code: number, v: number): FoOption => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return { code, value: b }; };
export const u32 = (code: number, v: number): FoOption => { const b = Buffer.alloc(4); b.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.floor(v))) >>> 0); return { code, value: b }; };
export const text = (code: number, v: string): FoOption => ({ code, value: Buffer.from(v, 'utf8') });
export const bytes = (code: number, v: Uint8Array): FoOption => ({ code, value: Buffer.from(v) });

export function opt(m: FoMessage, code: number): Buffer | undefined { return m.options.find((o) => o.code === code)?.value; }
export function optU8(m: FoMessage, code: number): number | undefined { const v = opt(m, code); return v?.length === 1 ? v.readUInt8(0) : undefined; }
export function optU16(m: FoMessage, code: number): number | undefined { const v = opt(m, code); return v?.length === 2 ? v.readUInt16BE(0) : undefined; }
export function optU32(m: FoMessage, code: number): number | undefined { const v = opt(m, code); return v?.length === 4 ? v.readUInt32BE(0) : undefined; }
export function optText(m: FoMessage, code: number): string | undefined { const v = opt(m, code); return v === undefined ? undefined : v.toString('utf8'); }
/** Options that appear more than once (an error outside batched BNDUPD/BNDACK, digest §1.3). */
export function duplicateOption(m: FoMessage): number | undefined {
  const seen = new Set<number>();
  for (const o of m.options) { if (seen.has(o.code)) return o.code; seen.add(o.code); }
  return undefined;
}

// ---------------------------------------------------------------- value tables (draft / ISC, digest §3.3, §3.5)

export const SERVER_STATE_CODES = {
  startup: 1, normal: 2, 'communications-interrupted': 3, 'partner-down': 4, 'potential-conflict': 5, recover: 6,
  paused: 7, shutdown: 8, 'recover-done': 9, 'resolution-interrupted': 10, 'conflict-done': 11, 'recover-wait': 254,
} as const;
export type ServerStateName = keyof typeof SERVER_STATE_CODES;
export function serverStateOfCode(code: number): ServerStateName | undefined {
  return (Object.keys(SERVER_STATE_CODES) as ServerStateName[]).find((k) => SERVER_STATE_CODES[k] === code);
}

export const BINDING_STATUS_CODES = { free: 1, active: 2, expired: 3, released: 4, abandoned: 5, reset: 6, backup: 7 } as const;
export type BindingStatusName = keyof typeof BINDING_STATUS_CODES;
export function bindingStatusOfCode(code: number): BindingStatusName | undefined {
  return (Object.keys(BINDING_STATUS_CODES) as BindingStatusName[]).find((k) => BINDING_STATUS_CODES[k] === code);
}

export const ConnectReject = {
  TIME_MISMATCH: 4, INVALID_MCLT: 5, UNKNOWN: 6, DUPLICATE_CONNECTION: 7, INVALID_PARTNER: 8, DIGEST_NOT_CONFIGURED: 13,
  VERSION_MISMATCH: 14, NO_TRAFFIC: 17, HBA_CONFLICT: 18, DIGEST_FAILED: 20, DIGEST_MISSING: 21,
} as const;
