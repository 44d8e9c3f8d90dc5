// Shared test helpers for the failover wire codec.
import assert from 'node:assert/strict';
import { DecodeError } from '../../../src/errors.ts';
import { FAILOVER_DECODE_REASONS } from '../../../src/failover/wire/reader.ts';
import { decodeFailoverMessage, type FailoverMessage } from '../../../src/failover/wire/message.ts';

/** Deep copies Buffers so deepEqual compares bytes, not views of different backing stores. */
export function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** decode returns a message or throws a DecodeError with a listed reason; anything else fails the test. */
export function decodeOrDecodeError(buf: Buffer, offset = 0): FailoverMessage | DecodeError {
  try {
    return decodeFailoverMessage(buf, offset);
  } catch (err) {
    assert.ok(err instanceof DecodeError, `expected DecodeError, got ${String(err)}`);
    assert.ok((FAILOVER_DECODE_REASONS as readonly string[]).includes(err.code), `reason ${err.code} not listed`);
    return err;
  }
}

export function expectDecodeError(fn: () => unknown, reason: string): DecodeError {
  let caught: unknown;
  try { fn(); } catch (err) { caught = err; }
  assert.ok(caught instanceof DecodeError, `expected DecodeError(${reason}), got ${String(caught)}`);
  assert.equal(caught.code, reason, caught.message);
  return caught;
}

/** Hand-built message: header + raw options ([code, value bytes]). */
export function rawMessage(type: number, options: readonly (readonly [number, Buffer])[], opts: { xid?: number; time?: number; payloadOffset?: number } = {}): Buffer {
  const payloadOffset = opts.payloadOffset ?? 12;
  const body = Buffer.concat(options.map(([code, v]) => {
    const h = Buffer.alloc(4); h.writeUInt16BE(code, 0); h.writeUInt16BE(v.length, 2); return Buffer.concat([h, v]);
  }));
  const head = Buffer.alloc(payloadOffset);
  head.writeUInt16BE(payloadOffset + body.length, 0);
  head[2] = type;
  head[3] = payloadOffset;
  head.writeUInt32BE(opts.time ?? 1_700_000_000, 4);
  head.writeUInt32BE(opts.xid ?? 7, 8);
  return Buffer.concat([head, body]);
}

export const u8 = (n: number): Buffer => Buffer.from([n]);
export const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
export const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
