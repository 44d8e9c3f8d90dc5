// Failover option table (draft-ietf-dhc-failover-12 §12 numbering = ISC 4.x; digest §3.1) plus the
// Microsoft options 30–41 (MS-DHCPF 2.2; digest §9.2), the typed value codecs the table drives, the
// per-message allowed/required sets and the value tables (reject reasons, server states, flags).
// Every option: 2-byte code, 2-byte length (excluding the 4-byte option header), value. Big-endian.
import type { Ipv4 } from '../../net/ipv4.ts';
import type { ServerState } from '../protocol/states.ts';
import { decodeFail, type Reader } from './reader.ts';
import type { Writer } from './writer.ts';

export type OptionType =
  | 'u8' | 'u16' | 'u32' | 'time' | 'ipv4' | 'bytes' | 'text' | 'hba' | 'hardware-address' | 'ddns'
  | 'message-digest' | 'vendor-options' | 'ipv4-list-le' | 'utf16z';

export interface OptionSpec { readonly name: string; readonly type: OptionType }

export const FAILOVER_OPTIONS = {
  1: { name: 'addresses-transferred', type: 'u32' },
  2: { name: 'assigned-ip-address', type: 'ipv4' },
  3: { name: 'binding-status', type: 'u8' }, // dialect-specific meaning: dialect.ts
  4: { name: 'client-identifier', type: 'bytes' }, // raw option 61 contents
  5: { name: 'client-hardware-address', type: 'hardware-address' }, // htype + chaddr
  6: { name: 'client-last-transaction-time', type: 'time' },
  7: { name: 'client-reply-options', type: 'bytes' }, // magic cookie + DHCP options, kept raw
  8: { name: 'client-request-options', type: 'bytes' },
  9: { name: 'ddns', type: 'ddns' },
  10: { name: 'delayed-service-parameter', type: 'u8' },
  11: { name: 'hash-bucket-assignment', type: 'hba' },
  12: { name: 'ip-flags', type: 'u16' }, // length 2 (ISC), dialect-specific bits
  13: { name: 'lease-expiration-time', type: 'time' },
  14: { name: 'max-unacked-bndupd', type: 'u32' },
  15: { name: 'mclt', type: 'u32' },
  16: { name: 'message', type: 'text' },
  17: { name: 'message-digest', type: 'message-digest' }, // handled by the codec and auth.ts, never a field
  18: { name: 'potential-expiration-time', type: 'time' },
  19: { name: 'receive-timer', type: 'u32' },
  20: { name: 'protocol-version', type: 'u8' },
  21: { name: 'reject-reason', type: 'u8' },
  22: { name: 'relationship-name', type: 'text' },
  23: { name: 'server-flags', type: 'u8' },
  24: { name: 'server-state', type: 'u8' },
  25: { name: 'start-time-of-state', type: 'time' },
  26: { name: 'tls-reply', type: 'u8' },
  27: { name: 'tls-request', type: 'u8' },
  28: { name: 'vendor-class-identifier', type: 'text' },
  29: { name: 'vendor-specific-options', type: 'vendor-options' },
  30: { name: 'ms-scope-id-list', type: 'ipv4-list-le' }, // host (little-endian) byte order
  31: { name: 'ms-client-name', type: 'utf16z' },
  32: { name: 'ms-client-description', type: 'utf16z' },
  33: { name: 'ms-client-subnet-mask', type: 'ipv4' },
  34: { name: 'ms-server-ip', type: 'ipv4' },
  35: { name: 'ms-server-name', type: 'utf16z' },
  36: { name: 'ms-client-type', type: 'u8' },
  37: { name: 'ms-client-nap-status', type: 'bytes' }, // spec: length 4 vs example 1 byte; kept raw
  38: { name: 'ms-client-nap-probation', type: 'bytes' }, // spec's units and size disagree; kept raw
  39: { name: 'ms-client-nap-capable', type: 'u8' },
  40: { name: 'ms-client-matched-policy', type: 'utf16z' },
  41: { name: 'ms-extended-address-state', type: 'u32' },
} as const satisfies Record<number, OptionSpec>;

export type OptionCode = keyof typeof FAILOVER_OPTIONS;
export const OPTION_CODES: readonly OptionCode[] = Object.keys(FAILOVER_OPTIONS).map(Number) as OptionCode[];
export const MESSAGE_DIGEST = 17;
export const ASSIGNED_IP_ADDRESS = 2;
/** Codes ISC 4.4.3 knows; anything above is Microsoft-only and never sent on an ISC link. */
export const MAX_ISC_OPTION = 29;

export function isOptionCode(code: number): code is OptionCode {
  return Object.hasOwn(FAILOVER_OPTIONS, code);
}

export function optionName(code: number): string {
  return isOptionCode(code) ? FAILOVER_OPTIONS[code].name : `option-${code}`;
}

export interface HardwareAddress { readonly htype: number; readonly address: Buffer }
export interface Ddns { readonly flags: number; readonly fqdn: Buffer }
export interface MessageDigest { readonly type: number; readonly value: Buffer }
export interface VendorOption { readonly code: number; readonly data: Buffer }

interface ValueByType {
  'u8': number; 'u16': number; 'u32': number; 'time': number; 'ipv4': Ipv4; 'bytes': Buffer; 'text': string;
  'hba': Buffer; 'hardware-address': HardwareAddress; 'ddns': Ddns; 'message-digest': MessageDigest;
  'vendor-options': readonly VendorOption[]; 'ipv4-list-le': readonly Ipv4[]; 'utf16z': string;
}
export type OptionValue<C extends OptionCode> = ValueByType[(typeof FAILOVER_OPTIONS)[C]['type']];

/** Exact value sizes; other types are variable (with the minimums checked in the codecs). */
const FIXED_SIZE: Partial<Record<OptionType, number>> = { 'u8': 1, 'u16': 2, 'u32': 4, 'time': 4, 'ipv4': 4, 'hba': 32 };
export const HBA_SIZE = 32;

/** Decodes one option value from `r`, which is bounded to exactly the option's data. */
export function decodeOptionValue<C extends OptionCode>(code: C, r: Reader): OptionValue<C> {
  const spec: OptionSpec = FAILOVER_OPTIONS[code];
  const what = spec.name;
  const fixed = FIXED_SIZE[spec.type];
  if (fixed !== undefined && r.remaining !== fixed) {
    decodeFail('bad_option_length', `${what}: length ${r.remaining}, expected ${fixed}`, r.offset - 4);
  }
  return decodeByType(spec.type, r, what) as OptionValue<C>;
}

function decodeByType(type: OptionType, r: Reader, what: string): ValueByType[OptionType] {
  switch (type) {
    case 'u8': return r.u8(what);
    case 'u16': return r.u16(what);
    case 'u32': case 'time': case 'ipv4': return r.u32(what);
    case 'bytes': case 'hba': return r.bytes(r.remaining, what);
    case 'text': return r.bytes(r.remaining, what).toString('utf8');
    case 'hardware-address': {
      const htype = r.u8(what, 'bad_option_length');
      return { htype, address: r.bytes(r.remaining, what) };
    }
    case 'ddns': {
      const flags = r.u16(what, 'bad_option_length');
      return { flags, fqdn: r.bytes(r.remaining, what) };
    }
    case 'message-digest': {
      const t = r.u8(what, 'bad_option_length');
      return { type: t, value: r.bytes(r.remaining, what) };
    }
    case 'vendor-options': {
      const list: VendorOption[] = [];
      while (!r.atEnd) {
        const code = r.u16(`${what} code`, 'bad_option_length');
        const len = r.u16(`${what} length`, 'bad_option_length');
        list.push({ code, data: r.bytes(len, `${what} ${code}`, 'bad_option_length') });
      }
      return list;
    }
    case 'ipv4-list-le': {
      if (r.remaining % 4 !== 0) decodeFail('bad_option_length', `${what}: length ${r.remaining} is not a multiple of 4`, r.offset - 4);
      const list: Ipv4[] = [];
      while (!r.atEnd) list.push(r.bytes(4, what).readUInt32LE(0));
      return list;
    }
    case 'utf16z': {
      if (r.remaining % 2 !== 0) decodeFail('bad_option_length', `${what}: odd UTF-16 length ${r.remaining}`, r.offset - 4);
      const text = r.bytes(r.remaining, what).toString('utf16le');
      return text.endsWith('\0') ? text.slice(0, -1) : text;
    }
  }
}

/** Appends one whole option (code, length, value). Throws RangeError for a value that cannot be encoded. */
export function encodeOption<C extends OptionCode>(code: C, value: OptionValue<C>, w: Writer): void {
  const spec: OptionSpec = FAILOVER_OPTIONS[code];
  w.u16(code);
  const lengthAt = w.length;
  w.u16(0);
  encodeByType(spec.type, value as ValueByType[OptionType], w, spec.name);
  const len = w.length - lengthAt - 2;
  const fixed = FIXED_SIZE[spec.type];
  if (fixed !== undefined && len !== fixed) throw new RangeError(`${spec.name}: value is ${len} bytes, expected ${fixed}`);
  if (len > 0xffff) throw new RangeError(`${spec.name}: value of ${len} bytes does not fit a 16-bit length`);
  w.patchU16(lengthAt, len);
}

function encodeByType(type: OptionType, v: ValueByType[OptionType], w: Writer, what: string): void {
  switch (type) {
    case 'u8': w.u8(v as number); return;
    case 'u16': w.u16(v as number); return;
    case 'u32': case 'time': case 'ipv4': w.u32(v as number); return;
    case 'bytes': case 'hba': w.bytes(v as Buffer); return;
    case 'text': w.bytes(Buffer.from(v as string, 'utf8')); return;
    case 'hardware-address': { const h = v as HardwareAddress; w.u8(h.htype).bytes(h.address); return; }
    case 'ddns': { const d = v as Ddns; w.u16(d.flags).bytes(d.fqdn); return; }
    case 'message-digest': { const d = v as MessageDigest; w.u8(d.type).bytes(d.value); return; }
    case 'vendor-options':
      for (const o of v as readonly VendorOption[]) {
        if (o.data.length > 0xffff) throw new RangeError(`${what}: sub-option ${o.code} too long`);
        w.u16(o.code).u16(o.data.length).bytes(o.data);
      }
      return;
    case 'ipv4-list-le':
      for (const ip of v as readonly Ipv4[]) { const b = Buffer.alloc(4); b.writeUInt32LE(ip >>> 0); w.bytes(b); }
      return;
    case 'utf16z': w.bytes(Buffer.from(`${v as string}\0`, 'utf16le')); return;
  }
}

// ---- message types ---------------------------------------------------------------------------

export const MESSAGE_TYPES = {
  POOLREQ: 1, POOLRESP: 2, BNDUPD: 3, BNDACK: 4, CONNECT: 5, CONNECTACK: 6,
  UPDREQALL: 7, UPDDONE: 8, UPDREQ: 9, STATE: 10, CONTACT: 11, DISCONNECT: 12,
} as const;
export type MessageTypeName = keyof typeof MESSAGE_TYPES;
export const MESSAGE_TYPE_BY_CODE: Readonly<Record<number, MessageTypeName>> = Object.fromEntries(
  Object.entries(MESSAGE_TYPES).map(([name, code]) => [code, name as MessageTypeName]),
);

const BINDING_OPTIONS: readonly OptionCode[] = [2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 18, 25, 29, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41];

/**
 * Options a message of each type may carry (digest §2, §1.5, §9.2). Anything else (and any unknown
 * code) is skipped and reported in `skipped`, as ISC's `fto_allowed` does. message-digest (17) is
 * allowed everywhere and handled by the codec.
 */
export const ALLOWED_OPTIONS: Readonly<Record<MessageTypeName, ReadonlySet<OptionCode>>> = {
  POOLREQ: new Set([]),
  POOLRESP: new Set([1]),
  BNDUPD: new Set(BINDING_OPTIONS),
  BNDACK: new Set([2, 16, 21]),
  CONNECT: new Set([10, 11, 14, 15, 19, 20, 22, 27, 28, 29]),
  CONNECTACK: new Set([14, 16, 19, 20, 21, 22, 26, 28, 29]),
  UPDREQALL: new Set([30]),
  UPDDONE: new Set([]),
  UPDREQ: new Set([30]),
  STATE: new Set([23, 24, 25]),
  // vendor-specific-options: the pool ownership handover between our own servers (ownership-option.ts).
  CONTACT: new Set([29]),
  DISCONNECT: new Set([16, 21]),
};

/**
 * Options without which decoding fails with `missing_option` (per binding transaction for
 * BNDUPD/BNDACK). Deliberately short: a CONNECT without MCLT or a BNDUPD without binding-status
 * must still decode, so that the peer can answer with the spec's reject reason (5, 3).
 */
export const REQUIRED_OPTIONS: Readonly<Partial<Record<MessageTypeName, readonly OptionCode[]>>> = {
  POOLRESP: [1],
  BNDUPD: [2],
  BNDACK: [2],
  STATE: [24],
};

// ---- value tables ----------------------------------------------------------------------------

/** reject-reason (option 21) values, digest §3.2. */
export const REJECT_REASONS = {
  ILLEGAL_IP_ADDRESS: 1, FATAL_CONFLICT: 2, MISSING_BINDING_INFO: 3, TIME_MISMATCH: 4, INVALID_MCLT: 5,
  UNKNOWN: 6, DUPLICATE_CONNECTION: 7, INVALID_PARTNER: 8, TLS_NOT_SUPPORTED: 9, TLS_NOT_CONFIGURED: 10,
  TLS_REQUIRED: 11, DIGEST_NOT_SUPPORTED: 12, DIGEST_NOT_CONFIGURED: 13, VERSION_MISMATCH: 14,
  OUTDATED_BINDING_INFO: 15, LESS_CRITICAL_BINDING_INFO: 16, NO_TRAFFIC: 17, HBA_CONFLICT: 18,
  IP_NOT_RESERVED: 19, DIGEST_FAILED: 20, MISSING_DIGEST: 21, UNKNOWN_ERROR: 254,
} as const;
export type RejectReasonName = keyof typeof REJECT_REASONS;

/** server-flags (option 23). */
export const SERVER_FLAGS = { STARTUP: 0x01 } as const;

/** server-state (option 24), digest §3.5; RECOVER-WAIT is ISC's 254 (MS leaves it undocumented). */
export const SERVER_STATE_CODES: Readonly<Record<ServerState, number>> = {
  'startup': 1, 'normal': 2, 'communications-interrupted': 3, 'partner-down': 4, 'potential-conflict': 5,
  'recover': 6, 'paused': 7, 'shutdown': 8, 'recover-done': 9, 'resolution-interrupted': 10,
  'conflict-done': 11, 'recover-wait': 254,
};
const SERVER_STATE_BY_CODE: ReadonlyMap<number, ServerState> = new Map(
  Object.entries(SERVER_STATE_CODES).map(([s, c]) => [c, s as ServerState]),
);

export function serverStateFromWire(code: number): ServerState | undefined {
  return SERVER_STATE_BY_CODE.get(code);
}

export function serverStateToWire(state: ServerState): number {
  return SERVER_STATE_CODES[state];
}

/** DDNS (option 9) flag bits. */
export const DDNS_FLAGS = { C: 0x0001, A: 0x0002, D: 0x0004, P: 0x0008 } as const;
/** message-digest type bytes: draft-12's HMAC-MD5 and our HMAC-SHA256 (see auth.ts). */
export const DIGEST_TYPES = { HMAC_MD5: 1, HMAC_SHA256: 2 } as const;
