// Growable big-endian writer. Encoders append; `patchU16` fills in lengths written before the body.

export class Writer {
  #buf: Buffer;
  #length = 0;

  constructor(initialSize = 256) {
    this.#buf = Buffer.alloc(Math.max(16, initialSize));
  }

  get length(): number { return this.#length; }

  #grow(n: number): number {
    const at = this.#length;
    if (at + n > this.#buf.length) {
      const next = Buffer.alloc(Math.max(this.#buf.length * 2, at + n));
      this.#buf.copy(next, 0, 0, at);
      this.#buf = next;
    }
    this.#length = at + n;
    return at;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`u8 out of range: ${v}`);
    const at = this.#grow(1);
    this.#buf[at] = v;
    return this;
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`u16 out of range: ${v}`);
    const at = this.#grow(2);
    this.#buf.writeUInt16BE(v, at);
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`);
    const at = this.#grow(4);
    this.#buf.writeUInt32BE(v, at);
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.#grow(b.length); // grow first: it may replace #buf
    this.#buf.set(b, at);
    return this;
  }

  patchU16(at: number, v: number): void {
    if (at < 0 || at + 2 > this.#length) throw new RangeError(`patch at ${at} outside ${this.#length} written bytes`);
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`u16 out of range: ${v}`);
    this.#buf.writeUInt16BE(v, at);
  }

  /** A copy of the bytes written so far. */
  finish(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#length));
  }
}
