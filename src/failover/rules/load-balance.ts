// RFC 3074 load balancing: the 8-bit Pearson-style hash of the client's request ID, the 256-bit
// hash-bucket-assignment (HBA, failover option 11) and the "who answers this client" decision.
// Pure. Digest §8; isc-projects/dhcp server/failover.c `loadb_p_hash`, `load_balance_mine`.

/**
 * The RFC 3074 §6 mixing table: a permutation of 0..255 (ISC `loadb_mx_tbl`, Kea query_filter.cc,
 * both citing RFC 3074 / draft-ietf-dhc-loadb). Index = previous hash XOR key byte.
 */
export const MIX_TABLE: Readonly<Uint8Array> = Uint8Array.from([
  251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232,
  31, 32, 55, 60, 152, 58, 17, 237, 174, 70, 160, 144, 220, 90, 57, 223,
  59, 3, 18, 140, 111, 166, 203, 196, 134, 243, 124, 95, 222, 179, 197, 65,
  180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23, 97, 16,
  40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67,
  207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5,
  20, 113, 71, 35, 128, 13, 182, 94, 25, 226, 227, 199, 75, 27, 41, 245,
  230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115, 241, 73, 88, 105,
  39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148, 154, 122, 12, 84,
  82, 163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239,
  195, 42, 106, 198, 118, 112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253,
  137, 185, 99, 164, 102, 147, 45, 66, 231, 52, 141, 211, 194, 206, 246, 238,
  56, 110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171, 72, 50,
  33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125, 188, 213,
  96, 235, 136, 208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4,
  216, 131, 89, 21, 28, 133, 37, 153, 149, 80, 170, 68, 6, 169, 234, 151,
]);

export const BUCKETS = 256;
export const HBA_BYTES = 32;

/** Hash-bucket bitmap as carried in option 11: bucket b is bit `1 << (b & 7)` of byte `b >> 3`. */
export type BucketMap = Readonly<Uint8Array>;

/**
 * What a set bit means. draft-12 §12.11: the secondary serves it; ISC 4.4.3: the primary serves it
 * (digest §8.3 conflict 2). A dialect setting, never guessed from the peer.
 */
export type HbaPolarity = 'set-is-primary' | 'set-is-secondary';
export type Role = 'primary' | 'secondary';

/** RFC 3074 hash: start with len mod 256, mix the key bytes from the last to the first. */
export function bucketOf(key: Uint8Array): number {
  let h = key.length & 0xff;
  for (let i = key.length - 1; i >= 0; i--) h = MIX_TABLE[h ^ key[i]!]!;
  return h;
}

/** The request ID to hash: the whole option 61 value when present and non-empty, else chaddr[0..hlen). */
export function requestKeyOf(input: { clientId?: Uint8Array | undefined; chaddr: Uint8Array }): Uint8Array {
  return input.clientId !== undefined && input.clientId.length > 0 ? input.clientId : input.chaddr;
}

/** ISC `split N`: buckets 0..N-1 get their bit set (N in 0..256). */
export function bucketMapForSplit(split: number): Uint8Array {
  const n = Math.max(0, Math.min(BUCKETS, Math.trunc(split)));
  const map = new Uint8Array(HBA_BYTES);
  for (let b = 0; b < n; b++) map[b >> 3]! |= 1 << (b & 7);
  return map;
}

/** Percent of clients the primary serves → ISC split value: round(256 × pct / 100). */
export function splitForPrimaryPercent(primaryPercent: number): number {
  const pct = Math.max(0, Math.min(100, primaryPercent));
  return Math.round((BUCKETS * pct) / 100);
}

/**
 * The HBA the primary sends so that the primary serves `primaryPercent` % of clients under the given
 * polarity. Hot standby = 100 (the standby serves no bucket in NORMAL).
 */
export function bucketMapForPercent(primaryPercent: number, polarity: HbaPolarity): Uint8Array {
  const split = splitForPrimaryPercent(primaryPercent);
  return polarity === 'set-is-primary' ? bucketMapForSplit(split) : invertMap(bucketMapForSplit(split));
}

export function isBucketSet(map: BucketMap, bucket: number): boolean {
  return ((map[(bucket >> 3) & 31] ?? 0) & (1 << (bucket & 7))) !== 0;
}

/** Does `role` own `bucket` under this map and polarity? */
export function ownsBucket(map: BucketMap, bucket: number, opts: { role: Role; polarity: HbaPolarity }): boolean {
  const primaryOwns = isBucketSet(map, bucket) === (opts.polarity === 'set-is-primary');
  return opts.role === 'primary' ? primaryOwns : !primaryOwns;
}

/** Does `role` own the client with this request ID (bucket test only, no state, no secs)? */
export function serves(map: BucketMap, key: Uint8Array, opts: { role: Role; polarity: HbaPolarity }): boolean {
  return ownsBucket(map, bucketOf(key), opts);
}

/** Number of buckets `role` owns. */
export function bucketCount(map: BucketMap, opts: { role: Role; polarity: HbaPolarity }): number {
  let n = 0;
  for (let b = 0; b < BUCKETS; b++) if (ownsBucket(map, b, opts)) n++;
  return n;
}

export interface AnswerInput {
  readonly map: BucketMap;
  readonly key: Uint8Array;
  readonly role: Role;
  readonly polarity: HbaPolarity;
  /** From service-state: load balancing applies only in NORMAL. */
  readonly loadBalanceActive: boolean;
  /** The client's `secs` field. */
  readonly secs: number;
  /**
   * ISC `load balance max seconds`: a client waiting longer than this is answered whatever its
   * bucket; 0 disables load balancing (both answer everyone); undefined = no override.
   */
  readonly maxSecs?: number | undefined;
}

/**
 * Should this server answer a load-balanced message (DISCOVER) from this client? Outside NORMAL every
 * serving server answers everyone; in NORMAL only its own buckets, unless the client has waited
 * longer than `maxSecs`. Hot standby (HBA = all primary): the standby answers nobody here.
 */
export function shouldAnswer(input: AnswerInput): boolean {
  if (!input.loadBalanceActive) return true;
  if (input.maxSecs !== undefined && (input.maxSecs === 0 || input.secs > input.maxSecs)) return true;
  return serves(input.map, input.key, input);
}

export function invertMap(map: BucketMap): Uint8Array {
  const out = new Uint8Array(HBA_BYTES);
  for (let i = 0; i < HBA_BYTES; i++) out[i] = ~(map[i] ?? 0) & 0xff;
  return out;
}
