// BOOTP/DHCP message codec (RFC 2131 §2 and §4.1, RFC 2132 §9.3 option overload, RFC 3396 long options).
//
// Decoding rules
// - At least 240 bytes (236-byte header + magic cookie), else `truncated`; wrong cookie → `bad_magic_cookie`.
// - Options are read from the options field, then `file`, then `sname` when option 52 overloads them;
//   repeated codes are concatenated in that order (RFC 3396). Pad is skipped; End stops a field and
//   whatever follows it is ignored. A field that runs out exactly at an option boundary without End is
//   accepted (some clients omit End); an option whose length runs past its field → `bad_option_length`.
// - Option 52 belongs to the codec: it is consumed (only when in the options field, RFC 2131 §4.1) and not
//   stored in `options`; its payload must be one byte 1..3, else `bad_overload`. Overloaded `file`/`sname`
//   come back zero-filled, since their bytes were options.
// - Buffers in the result (chaddr, sname, file, option payloads) are views of the input where possible.
//   Only DecodeError is thrown, whatever the input. Header fields are not judged here (an hlen over 16 is
//   reply.ts's `bad_hlen` drop), so any 240+ byte packet with a cookie and well-formed options decodes.
//
// Encoding rules
// - 53 first, then `options` in map order (52 in the map is ignored: the encoder decides overload), values
//   over 255 bytes split into consecutive instances (RFC 3396), End, zero padding to the BOOTP minimum 300.
// - `maxSize` is the client's option 57, an IP datagram size (RFC 2132 §9.10): the DHCP message may use
//   max(576, maxSize) − 28 bytes (IP + UDP headers), as ISC dhcpd does. Without `maxSize` there is no limit.
// - When the options do not fit, `file` then `sname` are overloaded (only when they are all zero). Options
//   are then placed in priority order — 53, 54, 51, 82, then map order — each into the first field with
//   room as one instance, else split over the fields in field order (RFC 3396); an option that fits
//   nowhere is dropped. 53, 54 and 51 come first, so they always fit. `encodeMessageWithReport` returns
//   the dropped codes; `encodeMessage` passes them to `onDropped`.
import { DecodeError } from '../../errors.ts';
import type { DhcpMessage } from './message.ts';

export const DECODE_REASONS = ['truncated', 'bad_magic_cookie', 'bad_option_length', 'bad_overload', 'bad_option_value'] as const;
export type DecodeReason = (typeof DECODE_REASONS)[number];

export const MAGIC_COOKIE = 0x63825363;
export const HEADER_SIZE = 236;
export const OPTIONS_OFFSET = 240;
export const BOOTP_MIN_SIZE = 300;
export const MIN_MAX_MESSAGE_SIZE = 576;
export const IP_UDP_OVERHEAD = 28;

const SNAME_OFFSET = 44, SNAME_SIZE = 64, FILE_OFFSET = 108, FILE_SIZE = 128, CHADDR_OFFSET = 28, CHADDR_SIZE = 16;
const PAD = 0, END = 255, OPT_OVERLOAD = 52, OPT_MESSAGE_TYPE = 53, OPT_SERVER_ID = 54, OPT_LEASE_TIME = 51, OPT_RELAY = 82;
const OVERLOAD_FILE = 1, OVERLOAD_SNAME = 2;

function fail(reason: DecodeReason, message: string, offset: number): never {
  throw new DecodeError(reason, message, offset);
}

/** Reads options in buf[start, end) into `options`; returns the raw option 52 payload seen (main field only). */
function readOptions(buf: Buffer, start: number, end: number, options: Map<number, Buffer>, main: boolean, field: string): Buffer | undefined {
  let overload: Buffer | undefined;
  let i = start;
  while (i < end) {
    const code = buf[i]!;
    if (code === PAD) { i++; continue; }
    if (code === END) break;
    if (i + 1 >= end) fail('bad_option_length', `${field}: option ${code} at offset ${i} has no length byte`, i);
    const dataStart = i + 2;
    const dataEnd = dataStart + buf[i + 1]!;
    if (dataEnd > end) fail('bad_option_length', `${field}: option ${code} at offset ${i} (length ${buf[i + 1]}) runs past the end at ${end}`, i);
    const data = buf.subarray(dataStart, dataEnd);
    if (code === OPT_OVERLOAD) {
      if (main) overload = overload === undefined ? data : Buffer.concat([overload, data]);
    } else {
      const prev = options.get(code);
      options.set(code, prev === undefined ? data : Buffer.concat([prev, data]));
    }
    i = dataEnd;
  }
  return overload;
}

export function decodeMessage(buf: Buffer): DhcpMessage {
  if (buf.length < OPTIONS_OFFSET) fail('truncated', `message is ${buf.length} bytes, a DHCP message has at least ${OPTIONS_OFFSET}`, buf.length);
  if (buf.readUInt32BE(HEADER_SIZE) !== MAGIC_COOKIE) {
    fail('bad_magic_cookie', `magic cookie is 0x${buf.readUInt32BE(HEADER_SIZE).toString(16).padStart(8, '0')}, expected 0x63825363`, HEADER_SIZE);
  }
  const options = new Map<number, Buffer>();
  const ov = readOptions(buf, OPTIONS_OFFSET, buf.length, options, true, 'options');
  let sname = buf.subarray(SNAME_OFFSET, SNAME_OFFSET + SNAME_SIZE);
  let file = buf.subarray(FILE_OFFSET, FILE_OFFSET + FILE_SIZE);
  if (ov !== undefined) {
    const v = ov[0]!;
    if (ov.length !== 1 || v < 1 || v > 3) fail('bad_overload', `option 52 must be one byte 1..3, got ${ov.toString('hex') || 'nothing'}`, OPTIONS_OFFSET);
    if (v & OVERLOAD_FILE) { readOptions(buf, FILE_OFFSET, FILE_OFFSET + FILE_SIZE, options, false, 'file'); file = Buffer.alloc(FILE_SIZE); }
    if (v & OVERLOAD_SNAME) { readOptions(buf, SNAME_OFFSET, SNAME_OFFSET + SNAME_SIZE, options, false, 'sname'); sname = Buffer.alloc(SNAME_SIZE); }
  }
  return {
    op: buf[0]!, htype: buf[1]!, hlen: buf[2]!, hops: buf[3]!,
    xid: buf.readUInt32BE(4), secs: buf.readUInt16BE(8), flags: buf.readUInt16BE(10),
    ciaddr: buf.readUInt32BE(12), yiaddr: buf.readUInt32BE(16), siaddr: buf.readUInt32BE(20), giaddr: buf.readUInt32BE(24),
    chaddr: buf.subarray(CHADDR_OFFSET, CHADDR_OFFSET + CHADDR_SIZE), sname, file, options,
  };
}

// ---------------------------------------------------------------------------------------------

export interface EncodeOptions {
  /** The client's option 57 (maximum DHCP message size, an IP datagram size); values below 576 count as 576. */
  readonly maxSize?: number;
  /** Called with the codes that did not fit, when any were dropped. */
  readonly onDropped?: (codes: number[]) => void;
}

export interface EncodeResult {
  readonly packet: Buffer;
  /** Option codes left out because they did not fit in `maxSize`, in the order they were considered. */
  readonly dropped: number[];
  /** The option 52 value written: 0 none, 1 file, 2 sname, 3 both. */
  readonly overload: number;
}

/** Bytes the instances of one value take (RFC 3396 split every 255 bytes; an empty value is one instance). */
function instancesSize(len: number): number {
  return len === 0 ? 2 : len + 2 * Math.ceil(len / 255);
}

/** Option codes in output order: 53 first, then map order; 52 skipped. Validates codes and values. */
function orderedCodes(options: Map<number, Buffer>): number[] {
  const codes: number[] = options.has(OPT_MESSAGE_TYPE) ? [OPT_MESSAGE_TYPE] : [];
  for (const [code, data] of options) {
    if (!Number.isInteger(code) || code < 1 || code > 254) throw new RangeError(`option code ${code} cannot be encoded (1..254 only)`);
    if (!Buffer.isBuffer(data)) throw new TypeError(`option ${code}: value must be a Buffer`);
    if (code !== OPT_OVERLOAD && code !== OPT_MESSAGE_TYPE) codes.push(code);
  }
  return codes;
}

function writeInstances(out: Buffer, at: number, code: number, data: Buffer, from: number, to: number): number {
  if (from === to) { out[at] = code; out[at + 1] = 0; return at + 2; }
  for (let s = from; s < to; s += 255) {
    const e = Math.min(s + 255, to);
    out[at] = code; out[at + 1] = e - s;
    data.copy(out, at + 2, s, e);
    at += 2 + e - s;
  }
  return at;
}

function writeField(out: Buffer, offset: number, size: number, value: Buffer, name: string): void {
  if (!Buffer.isBuffer(value) || value.length > size) throw new RangeError(`${name} must be a Buffer of at most ${size} bytes`);
  value.copy(out, offset);
}

function writeHeader(out: Buffer, m: DhcpMessage, sname: boolean, file: boolean): void {
  out.writeUInt8(m.op, 0); out.writeUInt8(m.htype, 1); out.writeUInt8(m.hlen, 2); out.writeUInt8(m.hops, 3);
  out.writeUInt32BE(m.xid, 4); out.writeUInt16BE(m.secs, 8); out.writeUInt16BE(m.flags, 10);
  out.writeUInt32BE(m.ciaddr, 12); out.writeUInt32BE(m.yiaddr, 16); out.writeUInt32BE(m.siaddr, 20); out.writeUInt32BE(m.giaddr, 24);
  writeField(out, CHADDR_OFFSET, CHADDR_SIZE, m.chaddr, 'chaddr');
  if (sname) writeField(out, SNAME_OFFSET, SNAME_SIZE, m.sname, 'sname');
  if (file) writeField(out, FILE_OFFSET, FILE_SIZE, m.file, 'file');
  out.writeUInt32BE(MAGIC_COOKIE, HEADER_SIZE);
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function encodeMessage(m: DhcpMessage, opts: EncodeOptions = {}): Buffer {
  const r = encodeMessageWithReport(m, opts);
  if (r.dropped.length > 0) opts.onDropped?.(r.dropped);
  return r.packet;
}

export function encodeMessageWithReport(m: DhcpMessage, opts: EncodeOptions = {}): EncodeResult {
  const codes = orderedCodes(m.options);
  let size = OPTIONS_OFFSET + 1;
  for (const code of codes) size += instancesSize(m.options.get(code)!.length);
  const limit = opts.maxSize === undefined ? Infinity : Math.max(MIN_MAX_MESSAGE_SIZE, opts.maxSize) - IP_UDP_OVERHEAD;
  if (size <= limit) {
    const out = Buffer.alloc(Math.max(BOOTP_MIN_SIZE, size));
    writeHeader(out, m, true, true);
    let at = OPTIONS_OFFSET;
    for (const code of codes) { const d = m.options.get(code)!; at = writeInstances(out, at, code, d, 0, d.length); }
    out[at] = END;
    return { packet: out, dropped: [], overload: 0 };
  }
  return encodeOverloaded(m, codes, limit);
}

interface Piece { code: number; data: Buffer; from: number; to: number }
interface Field { start: number; room: number; pieces: Piece[] }

const PRIORITY = [OPT_MESSAGE_TYPE, OPT_SERVER_ID, OPT_LEASE_TIME, OPT_RELAY];

/** Plans where each instance goes (see the header comment); false when the value fits nowhere. */
function place(fields: Field[], code: number, data: Buffer): boolean {
  const len = data.length;
  if (len <= 255) {
    for (const f of fields) {
      if (f.room >= len + 2) { f.pieces.push({ code, data, from: 0, to: len }); f.room -= len + 2; return true; }
    }
    if (len === 0) return false;
  }
  let left = len;
  for (const f of fields) { let r = f.room; while (left > 0 && r >= 3) { const n = Math.min(255, r - 2, left); left -= n; r -= n + 2; } }
  if (left > 0) return false;
  let from = 0;
  for (const f of fields) {
    while (from < len && f.room >= 3) {
      const n = Math.min(255, f.room - 2, len - from);
      f.pieces.push({ code, data, from, to: from + n });
      f.room -= n + 2;
      from += n;
    }
  }
  return true;
}

function encodeOverloaded(m: DhcpMessage, codes: number[], limit: number): EncodeResult {
  const canFile = isZero(m.file), canSname = isZero(m.sname);
  const reserve = canFile || canSname ? 3 : 0; // option 52 in the options field
  const main: Field = { start: OPTIONS_OFFSET, room: limit - OPTIONS_OFFSET - 1 - reserve, pieces: [] };
  const file: Field = { start: FILE_OFFSET, room: canFile ? FILE_SIZE - 1 : 0, pieces: [] };
  const sname: Field = { start: SNAME_OFFSET, room: canSname ? SNAME_SIZE - 1 : 0, pieces: [] };
  const fields = [main, file, sname];
  const order = [...PRIORITY.filter((c) => m.options.has(c)), ...codes.filter((c) => !PRIORITY.includes(c))];
  const dropped: number[] = [];
  for (const code of order) {
    if (!place(fields, code, m.options.get(code)!)) {
      if (code === OPT_MESSAGE_TYPE || code === OPT_SERVER_ID || code === OPT_LEASE_TIME) {
        throw new RangeError(`option ${code} does not fit in a ${limit}-byte message`);
      }
      dropped.push(code);
    }
  }
  const overload = (file.pieces.length > 0 ? OVERLOAD_FILE : 0) | (sname.pieces.length > 0 ? OVERLOAD_SNAME : 0);
  let mainSize = 1 + (overload ? 3 : 0);
  for (const p of main.pieces) mainSize += instancesSize(p.to - p.from);
  const out = Buffer.alloc(Math.max(BOOTP_MIN_SIZE, OPTIONS_OFFSET + mainSize));
  writeHeader(out, m, !(overload & OVERLOAD_SNAME), !(overload & OVERLOAD_FILE));
  let at = OPTIONS_OFFSET;
  main.pieces.forEach((p, i) => {
    at = writeInstances(out, at, p.code, p.data, p.from, p.to);
    if (i === 0 && overload) { out[at] = OPT_OVERLOAD; out[at + 1] = 1; out[at + 2] = overload; at += 3; }
  });
  if (main.pieces.length === 0 && overload) { out[at] = OPT_OVERLOAD; out[at + 1] = 1; out[at + 2] = overload; at += 3; }
  out[at] = END;
  for (const f of [file, sname]) {
    if (f.pieces.length === 0) continue;
    let fat = f.start;
    for (const p of f.pieces) fat = writeInstances(out, fat, p.code, p.data, p.from, p.to);
    out[fat] = END;
  }
  return { packet: out, dropped, overload };
}
