// The pool ownership handover (rules/ownership-handover.ts) on the wire: one vendor-specific option (29)
// in a CONTACT, sent only between our own servers. Layout: kind (u8), then for a report the
// 16-byte fingerprint and a settled flag (u8), for a commit the fingerprint and a nonce (u32), for
// committed/refused the nonce. Anything else decodes to undefined (counted by the caller).
import type { VendorOption } from './options.ts';

/** The handshake's messages (their meaning: rules/ownership-handover.ts). */
export type HandoverMessage =
  | { readonly kind: 'report'; readonly fp: string; readonly settled: boolean }
  | { readonly kind: 'commit'; readonly fp: string; readonly nonce: number }
  | { readonly kind: 'committed'; readonly nonce: number }
  | { readonly kind: 'refused'; readonly nonce: number };

/** Our vendor option code inside option 29 ("do" = dhcp ownership). */
export const OWNERSHIP_VENDOR_CODE = 0x646f;
const KIND = { report: 1, commit: 2, committed: 3, refused: 4 } as const;
const FP_BYTES = 16;

export function encodeHandover(m: HandoverMessage): VendorOption {
  const fp = (hex: string): Buffer => Buffer.from(hex.slice(0, FP_BYTES * 2).padEnd(FP_BYTES * 2, '0'), 'hex');
  let data: Buffer;
  switch (m.kind) {
    case 'report': data = Buffer.concat([Buffer.from([KIND.report]), fp(m.fp), Buffer.from([m.settled ? 1 : 0])]); break;
    case 'commit': { const n = Buffer.alloc(4); n.writeUInt32BE(m.nonce >>> 0); data = Buffer.concat([Buffer.from([KIND.commit]), fp(m.fp), n]); break; }
    case 'committed': case 'refused': { data = Buffer.alloc(5); data[0] = KIND[m.kind]; data.writeUInt32BE(m.nonce >>> 0, 1); break; }
  }
  return { code: OWNERSHIP_VENDOR_CODE, data };
}

export function decodeHandover(options: readonly VendorOption[]): HandoverMessage | undefined {
  const o = options.find((v) => v.code === OWNERSHIP_VENDOR_CODE);
  if (o === undefined) return undefined;
  const d = o.data;
  const fp = (): string => d.subarray(1, 1 + FP_BYTES).toString('hex');
  if (d[0] === KIND.report && d.length === 2 + FP_BYTES && d[1 + FP_BYTES]! <= 1) return { kind: 'report', fp: fp(), settled: d[1 + FP_BYTES] === 1 };
  if (d[0] === KIND.commit && d.length === 5 + FP_BYTES) return { kind: 'commit', fp: fp(), nonce: d.readUInt32BE(1 + FP_BYTES) };
  if ((d[0] === KIND.committed || d[0] === KIND.refused) && d.length === 5) return { kind: d[0] === KIND.committed ? 'committed' : 'refused', nonce: d.readUInt32BE(1) };
  return undefined;
}
