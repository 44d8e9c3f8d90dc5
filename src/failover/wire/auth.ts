// Message authentication with a shared secret (MS-DHCPF 2.2, 3.1.5, 5.1: HMAC-SHA256 in the
// message-digest option 17). MS-DHCPF leaves the framing open and draft-12 contradicts itself on the
// option's position (digest §9.1), so this file DEFINES it (see DESIGN.md "Wire format"):
//   - the message-digest option is the LAST option of the message;
//   - its value is 1 type byte + 32 digest bytes: type 2 = HMAC-SHA256 (draft-12 only defines 1 = HMAC-MD5);
//   - key = the UTF-8 bytes of the secret (a Buffer is used as is);
//   - the HMAC covers the whole message as sent — header (with the final length), every option, the
//     digest option's code, length and type byte — with the 32 digest value bytes set to zero.
// This is unverified against a Windows server (none in the lab).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HEADER_SIZE, MAX_MESSAGE_SIZE } from './header.ts';
import { DIGEST_TYPES, MESSAGE_DIGEST } from './options.ts';

export const DIGEST_TYPE = DIGEST_TYPES.HMAC_SHA256;
export const DIGEST_SIZE = 32;
/** Bytes the digest option adds: code, length, type byte, digest. */
export const DIGEST_OPTION_SIZE = 4 + 1 + DIGEST_SIZE;

export type VerifyResult = 'ok' | 'missing' | 'bad';

interface OptionRef { readonly code: number; readonly at: number; readonly len: number }

/** The options of one well-formed message, or undefined if its framing does not hold together. */
function optionRefs(buf: Buffer): OptionRef[] | undefined {
  if (buf.length < HEADER_SIZE) return undefined;
  const length = buf.readUInt16BE(0);
  const payloadOffset = buf[3]!;
  if (length !== buf.length || payloadOffset < HEADER_SIZE || payloadOffset > length) return undefined;
  const refs: OptionRef[] = [];
  let i = payloadOffset;
  while (i < length) {
    if (i + 4 > length) return undefined;
    const code = buf.readUInt16BE(i);
    const len = buf.readUInt16BE(i + 2);
    if (i + 4 + len > length) return undefined;
    refs.push({ code, at: i, len });
    i += 4 + len;
  }
  return refs;
}

function keyOf(secret: string | Buffer): Buffer {
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
}

function hmac(message: Buffer, secret: string | Buffer): Buffer {
  return createHmac('sha256', keyOf(secret)).update(message).digest();
}

/**
 * Returns a copy of `buf` (one complete message without a digest) with the message-digest option
 * appended and the header length updated. Throws RangeError if buf already has a digest, is
 * malformed, or would exceed the maximum message size.
 */
export function signMessage(buf: Buffer, secret: string | Buffer): Buffer {
  const refs = optionRefs(buf);
  if (refs === undefined) throw new RangeError('signMessage: not one well-formed failover message');
  if (refs.some((o) => o.code === MESSAGE_DIGEST)) throw new RangeError('signMessage: message already carries a digest');
  const length = buf.length + DIGEST_OPTION_SIZE;
  if (length > MAX_MESSAGE_SIZE) throw new RangeError(`signMessage: ${length} bytes exceeds ${MAX_MESSAGE_SIZE}`);
  const out = Buffer.alloc(length);
  buf.copy(out);
  out.writeUInt16BE(length, 0);
  out.writeUInt16BE(MESSAGE_DIGEST, buf.length);
  out.writeUInt16BE(1 + DIGEST_SIZE, buf.length + 2);
  out[buf.length + 4] = DIGEST_TYPE;
  hmac(out, secret).copy(out, buf.length + 5); // the value bytes are still zero while hashing
  return out;
}

/** True when a well-formed message carries a message-digest option (anywhere). Never throws. */
export function hasDigest(buf: Buffer): boolean {
  return optionRefs(buf)?.some((o) => o.code === MESSAGE_DIGEST) ?? false;
}

/**
 * Checks the digest of one complete message. 'missing': no message-digest option. 'bad': a digest
 * that is not last, not HMAC-SHA256 of 32 bytes, or does not match; also any malformed message.
 * Never throws.
 */
export function verifyMessage(buf: Buffer, secret: string | Buffer): VerifyResult {
  const refs = optionRefs(buf);
  if (refs === undefined) return 'bad';
  const digests = refs.filter((o) => o.code === MESSAGE_DIGEST);
  if (digests.length === 0) return 'missing';
  const d = digests[0]!;
  if (digests.length > 1 || d !== refs[refs.length - 1] || d.len !== 1 + DIGEST_SIZE || buf[d.at + 4] !== DIGEST_TYPE) return 'bad';
  const valueAt = d.at + 5;
  const received = buf.subarray(valueAt, valueAt + DIGEST_SIZE);
  const copy = Buffer.from(buf);
  copy.fill(0, valueAt, valueAt + DIGEST_SIZE);
  return timingSafeEqual(hmac(copy, secret), received) ? 'ok' : 'bad';
}
