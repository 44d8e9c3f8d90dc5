// Bounded reader for failover messages: owns an offset, checks every length against what is left,
// and throws only DecodeError with one of FAILOVER_DECODE_REASONS (they become metric labels).
import { DecodeError } from '../../errors.ts';

export const FAILOVER_DECODE_REASONS = [
  'truncated', // fewer bytes than a length field promised
  'bad_length', // message length < 12 or over the maximum
  'bad_header', // payload offset < 12 or past the message end
  'unknown_message_type', // type 0 or > 12
  'bad_option_length', // option runs past the message, or a fixed-size option has the wrong size
  'bad_option_value', // a value that cannot be represented (e.g. hardware address without htype)
  'duplicate_option', // the same option twice (in one binding transaction for BNDUPD/BNDACK)
  'missing_option', // an option the message cannot do without (see REQUIRED_OPTIONS)
  'misplaced_digest', // message-digest (17) is not the last option
] as const;
export type FailoverDecodeReason = (typeof FAILOVER_DECODE_REASONS)[number];

export function decodeFail(reason: FailoverDecodeReason, message: string, offset: number): never {
  throw new DecodeError(reason, message, offset);
}

export class Reader {
  readonly buf: Buffer;
  readonly end: number;
  #offset: number;

  /** Reads buf[start, end); offsets in errors are absolute offsets into `buf`. */
  constructor(buf: Buffer, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) throw new RangeError(`bad reader bounds [${start}, ${end}) of ${buf.length}`);
    this.buf = buf;
    this.#offset = start;
    this.end = end;
  }

  get offset(): number { return this.#offset; }
  get remaining(): number { return this.end - this.#offset; }
  get atEnd(): boolean { return this.#offset >= this.end; }

  #need(n: number, what: string, reason: FailoverDecodeReason): void {
    if (n > this.end - this.#offset) {
      decodeFail(reason, `${what}: need ${n} byte(s) at offset ${this.#offset}, ${this.end - this.#offset} left`, this.#offset);
    }
  }

  u8(what: string, reason: FailoverDecodeReason = 'truncated'): number {
    this.#need(1, what, reason);
    return this.buf[this.#offset++]!;
  }

  u16(what: string, reason: FailoverDecodeReason = 'truncated'): number {
    this.#need(2, what, reason);
    const v = this.buf.readUInt16BE(this.#offset);
    this.#offset += 2;
    return v;
  }

  u32(what: string, reason: FailoverDecodeReason = 'truncated'): number {
    this.#need(4, what, reason);
    const v = this.buf.readUInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }

  /** A view (not a copy) of the next n bytes. */
  bytes(n: number, what: string, reason: FailoverDecodeReason = 'truncated'): Buffer {
    this.#need(n, what, reason);
    const v = this.buf.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return v;
  }

  skip(n: number, what: string, reason: FailoverDecodeReason = 'truncated'): void {
    this.#need(n, what, reason);
    this.#offset += n;
  }

  /** A reader over the next n bytes (advancing this one past them). */
  sub(n: number, what: string, reason: FailoverDecodeReason = 'truncated'): Reader {
    this.#need(n, what, reason);
    const r = new Reader(this.buf, this.#offset, this.#offset + n);
    this.#offset += n;
    return r;
  }
}
