// LOCAL ADAPTER, to be replaced by src/failover/wire/** once that codec lands: when this runtime was
// written the wire module did not exist yet. It implements only what the runtime needs: the 12-byte
// header (digest §1.2), 2+2-byte TLV options (§1.3), an incremental frame reader, and an HMAC-SHA256
// message digest (option 17) as the LAST option, computed over the whole message with the digest
// bytes zeroed (D12 §11.1 rule; §9.1: type byte for SHA-256 is undocumented, we send 2).
// Typed message views are plain objects built by the helpers at the bottom.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DecodeError } from '../errors.ts';

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
/** Digest option value: 1 type byte + 32 HMAC-SHA256 bytes. */
export const DIGEST_TYPE_HMAC_SHA256 = 2;
const DIGEST_VALUE_BYTES = 33;

export interface FoOption { readonly code: number; readonly value: Buffer }
export interface FoMessage {
  readonly type: number;
  /** Sender's clock, seconds since the epoch. */
  readonly time: number;
  readonly xid: number;
  readonly options: readonly FoOption[];
}

/** Encodes a message; with `secret`, appends the message-digest option. Throws if it would exceed 2048 bytes. */
export function encodeMessage(m: FoMessage, secret?: Buffer): Buffer {
  const opts = m.options.filter((o) => o.code !== Opt.DIGEST);
  let len = HEADER_BYTES;
  for (const o of opts) len += 4 + o.value.length;
  if (secret !== undefined) len += 4 + DIGEST_VALUE_BYTES;
  if (len > MAX_MESSAGE_BYTES) throw new DecodeError('too_long', `message of ${len} bytes exceeds ${MAX_MESSAGE_BYTES}`);
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
  if (secret !== undefined) {
    buf.writeUInt16BE(Opt.DIGEST, off); buf.writeUInt16BE(DIGEST_VALUE_BYTES, off + 2); buf.writeUInt8(DIGEST_TYPE_HMAC_SHA256, off + 4);
    createHmac('sha256', secret).update(buf).digest().copy(buf, off + 5);
  }
  return buf;
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

/** With a secret: the digest must be present, last, and verify. Without: none may be present (reason 13). */
export function checkDigest(frame: Buffer, m: FoMessage, secret: Buffer | undefined): DigestCheck {
  const idx = m.options.findIndex((o) => o.code === Opt.DIGEST);
  if (secret === undefined) return idx === -1 ? 'ok' : 'unexpected';
  if (idx === -1) return 'missing';
  const opt = m.options[idx]!;
  if (idx !== m.options.length - 1 || opt.value.length !== DIGEST_VALUE_BYTES || opt.value[0] !== DIGEST_TYPE_HMAC_SHA256) return 'bad';
  const copy = Buffer.from(frame);
  const at = frame.length - 32;
  copy.fill(0, at);
  const want = createHmac('sha256', secret).update(copy).digest();
  return timingSafeEqual(want, frame.subarray(at)) ? 'ok' : 'bad';
}

/** Incremental framing: push TCP chunks, get whole frames. Throws DecodeError on a bad length. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (len < HEADER_BYTES || len > MAX_MESSAGE_BYTES) throw new DecodeError('bad_length', `message length ${len} outside ${HEADER_BYTES}..${MAX_MESSAGE_BYTES}`, 0);
      if (this.buf.length < len) break;
      out.push(Buffer.from(this.buf.subarray(0, len)));
      this.buf = this.buf.subarray(len);
    }
    return out;
  }
  get buffered(): number { return this.buf.length; }
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
