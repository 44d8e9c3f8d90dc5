// Incremental TCP framing (digest §1.2): read the 2-byte length, then length − 2 more bytes. TCP may
// split or merge messages. A length below 12 or above the maximum is rejected as soon as the two
// length bytes arrive, before the body is buffered. After a DecodeError the stream is unusable (the
// caller closes the connection); further pushes throw the same error.
import { DecodeError } from '../../errors.ts';
import { HEADER_SIZE, MAX_MESSAGE_SIZE } from './header.ts';

export interface FrameReaderOptions { readonly maxMessageSize?: number }

export class FrameReader {
  readonly maxMessageSize: number;
  #pending: Buffer = Buffer.alloc(0);
  /** Stream offset of #pending[0], for error offsets. */
  #consumed = 0;
  #failed: DecodeError | undefined;

  constructor(opts: FrameReaderOptions = {}) {
    this.maxMessageSize = opts.maxMessageSize ?? MAX_MESSAGE_SIZE;
    if (this.maxMessageSize < HEADER_SIZE || this.maxMessageSize > 0xffff) throw new RangeError(`bad maxMessageSize ${this.maxMessageSize}`);
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number { return this.#pending.length; }

  /**
   * Adds a chunk; returns every message it completes, each a Buffer holding exactly one message
   * (views of the chunks, not copies: do not modify the chunks afterwards).
   */
  push(chunk: Buffer): Buffer[] {
    if (this.#failed !== undefined) throw this.#failed;
    let pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const out: Buffer[] = [];
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (length < HEADER_SIZE || length > this.maxMessageSize) {
        this.#failed = new DecodeError('bad_length', `message length ${length} outside ${HEADER_SIZE}..${this.maxMessageSize}`, this.#consumed);
        this.#pending = Buffer.alloc(0);
        throw this.#failed;
      }
      if (pending.length < length) break;
      out.push(pending.subarray(0, length));
      pending = pending.subarray(length);
      this.#consumed += length;
    }
    // Keep a compact copy of a partial message so a large chunk is not pinned by a few leftover bytes.
    this.#pending = pending.length === 0 ? Buffer.alloc(0) : Buffer.from(pending);
    return out;
  }
}
