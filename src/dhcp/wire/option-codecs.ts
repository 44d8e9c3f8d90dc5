// Typed codecs for DHCP option payloads: the typed value shapes (routes, FQDN, client id, relay
// agent info), `decodeOption` (payload → typed value) and `encodeOption` (typed value → payload),
// both driven by the option table. Messages keep options as raw Buffers (message.ts).
import { DecodeError } from '../../errors.ts';
import type { Ipv4 } from '../../net/ipv4.ts';
import { decodeDomainList, decodeDomainName, encodeDomainList, encodeDomainName } from './domain-names.ts';
import { OPTION_SPECS, optionName, type OptionType } from './option-table.ts';

export interface StaticRoute { readonly destination: Ipv4; readonly router: Ipv4 }
/** RFC 3442 route: `prefix` significant bits of `destination`. */
export interface ClasslessRoute { readonly destination: Ipv4; readonly prefix: number; readonly router: Ipv4 }
/** RFC 4702. `name` is ASCII when the E flag (0x04) is clear; with E set it travels in DNS wire format,
 *  and a trailing "." marks a fully qualified name (a partial name has no root label). */
export interface ClientFqdn { readonly flags: number; readonly rcode1: number; readonly rcode2: number; readonly name: string }
export interface ClientIdentifier { readonly type: number; readonly id: Buffer }
export interface RelaySubOption { readonly code: number; readonly data: Buffer }
/** RFC 3046 sub-options. Known ones are typed; every other sub-option is kept in `other`, in order. */
export interface RelayAgentInfo {
  circuitId?: Buffer;          // 1
  remoteId?: Buffer;           // 2
  linkSelection?: Ipv4;        // 5, RFC 3527
  subscriberId?: string;       // 6, RFC 3993
  serverIdOverride?: Ipv4;     // 11, RFC 5107
  other: RelaySubOption[];
  /** The whole option 82 payload as received (ignored by the encoder). */
  raw: Buffer;
}

export const RelaySub = { CIRCUIT_ID: 1, REMOTE_ID: 2, LINK_SELECTION: 5, SUBSCRIBER_ID: 6, SERVER_ID_OVERRIDE: 11 } as const;

// ---------------------------------------------------------------------------------------------
// Payload → typed value

function bad(code: number, message: string): DecodeError {
  return new DecodeError('bad_option_value', `option ${code} (${optionName(code)}): ${message}`);
}

function needMultiple(code: number, data: Buffer, unit: number, min = unit): void {
  if (data.length < min || data.length % unit !== 0) {
    throw bad(code, `length ${data.length} is not ${min === unit ? 'a positive' : 'a'} multiple of ${unit}`);
  }
}

function needLength(code: number, data: Buffer, len: number): void {
  if (data.length !== len) throw bad(code, `length ${data.length}, expected ${len}`);
}

/**
 * The typed value of an option payload; codes not in the table give the Buffer itself.
 * Throws DecodeError('bad_option_value') when the payload does not fit the option's type.
 */
export function decodeOption(code: number, data: Buffer): unknown {
  const spec = OPTION_SPECS[code];
  if (!spec) return data;
  switch (spec.type) {
    case 'ip': needLength(code, data, 4); return data.readUInt32BE(0);
    case 'ips': {
      needMultiple(code, data, 4);
      const out: Ipv4[] = [];
      for (let i = 0; i < data.length; i += 4) out.push(data.readUInt32BE(i));
      return out;
    }
    case 'u8': needLength(code, data, 1); return data[0];
    case 'u16': needLength(code, data, 2); return data.readUInt16BE(0);
    case 'u32': needLength(code, data, 4); return data.readUInt32BE(0);
    case 'i32': needLength(code, data, 4); return data.readInt32BE(0);
    case 'bool':
      needLength(code, data, 1);
      if (data[0]! > 1) throw bad(code, `boolean byte ${data[0]} is not 0 or 1`);
      return data[0] === 1;
    case 'string': return data.toString('utf8');
    case 'bytes': return data;
    case 'u8s': return Array.from(data);
    case 'u16s': {
      needMultiple(code, data, 2);
      const out: number[] = [];
      for (let i = 0; i < data.length; i += 2) out.push(data.readUInt16BE(i));
      return out;
    }
    case 'ip-pairs': {
      needMultiple(code, data, 8);
      const out: StaticRoute[] = [];
      for (let i = 0; i < data.length; i += 8) out.push({ destination: data.readUInt32BE(i), router: data.readUInt32BE(i + 4) });
      return out;
    }
    case 'domain-list': {
      const r = decodeDomainList(data);
      if (typeof r === 'string') throw bad(code, r);
      return r;
    }
    case 'classless-routes': return decodeClasslessRoutes(code, data);
    case 'fqdn': return decodeFqdn(code, data);
    case 'relay-agent': {
      const r = parseRelayAgent(data);
      if (typeof r === 'string') throw bad(code, r);
      return r;
    }
    case 'client-id':
      if (data.length < 1) throw bad(code, 'empty client identifier');
      return { type: data[0]!, id: data.subarray(1) } satisfies ClientIdentifier;
  }
}

function decodeClasslessRoutes(code: number, data: Buffer): ClasslessRoute[] {
  const out: ClasslessRoute[] = [];
  let i = 0;
  while (i < data.length) {
    const prefix = data[i]!;
    if (prefix > 32) throw bad(code, `prefix length ${prefix} at byte ${i}`);
    const sig = (prefix + 7) >> 3;
    if (i + 1 + sig + 4 > data.length) throw bad(code, `route at byte ${i} runs past the end`);
    let dest = 0;
    for (let k = 0; k < 4; k++) dest = dest * 256 + (k < sig ? data[i + 1 + k]! : 0);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if (((dest & ~mask) >>> 0) !== 0) throw bad(code, `route at byte ${i} has host bits set`);
    out.push({ destination: dest, prefix, router: data.readUInt32BE(i + 1 + sig) });
    i += 1 + sig + 4;
  }
  return out;
}

const FQDN_E = 0x04;

function decodeFqdn(code: number, data: Buffer): ClientFqdn {
  if (data.length < 3) throw bad(code, `length ${data.length}, expected at least 3`);
  const flags = data[0]!;
  const nameBytes = data.subarray(3);
  let name: string;
  if (flags & FQDN_E) {
    const r = decodeDomainName(nameBytes, 0, false);
    if (typeof r === 'string') throw bad(code, r);
    if (r.end !== nameBytes.length) throw bad(code, 'bytes after the name');
    name = r.fullyQualified ? `${r.name}.` : r.name;
  } else {
    name = nameBytes.toString('latin1');
  }
  return { flags, rcode1: data[1]!, rcode2: data[2]!, name };
}

/** Parses RFC 3046 sub-options; returns an error text for malformed input (never throws). */
export function parseRelayAgent(data: Buffer): RelayAgentInfo | string {
  const info: RelayAgentInfo = { other: [], raw: data };
  let i = 0;
  while (i < data.length) {
    if (i + 2 > data.length) return `sub-option header at byte ${i} is truncated`;
    const sub = data[i]!;
    const len = data[i + 1]!;
    if (i + 2 + len > data.length) return `sub-option ${sub} at byte ${i} runs past the end`;
    const v = data.subarray(i + 2, i + 2 + len);
    if (sub === RelaySub.CIRCUIT_ID && info.circuitId === undefined) info.circuitId = v;
    else if (sub === RelaySub.REMOTE_ID && info.remoteId === undefined) info.remoteId = v;
    else if (sub === RelaySub.LINK_SELECTION && len === 4 && info.linkSelection === undefined) info.linkSelection = v.readUInt32BE(0);
    else if (sub === RelaySub.SUBSCRIBER_ID && info.subscriberId === undefined) info.subscriberId = v.toString('utf8');
    else if (sub === RelaySub.SERVER_ID_OVERRIDE && len === 4 && info.serverIdOverride === undefined) info.serverIdOverride = v.readUInt32BE(0);
    else info.other.push({ code: sub, data: v });
    i += 2 + len;
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// Typed value → payload

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (Buffer.isBuffer(v)) return 'a Buffer';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${String(v)}`;
}

/** Throws the TypeError for a value not in the expected form (shared with option-yaml.ts). */
export function fail(code: number, expected: string, got: unknown): never {
  throw new TypeError(`option ${code} (${optionName(code)}): expected ${expected}, got ${describe(got)}`);
}

function ipOf(code: number, v: unknown, what = 'an IPv4 address'): Ipv4 {
  if (!isInt(v, 0, 0xffffffff)) fail(code, `${what} as a uint32`, v);
  return v;
}

function u32Buf(n: number): Buffer { const b = Buffer.allocUnsafe(4); b.writeUInt32BE(n >>> 0, 0); return b; }

/**
 * The payload for a typed value (the shapes decodeOption returns: IPs as uint32, lists as arrays…).
 * Codes not in the table take a Buffer. Throws TypeError/RangeError naming the expected form.
 */
export function encodeOption(code: number, value: unknown): Buffer {
  if (!isInt(code, 1, 254)) throw new RangeError(`option code ${String(code)} is not in 1..254`);
  const spec = OPTION_SPECS[code];
  const type: OptionType = spec?.type ?? 'bytes';
  switch (type) {
    case 'ip': return u32Buf(ipOf(code, value));
    case 'ips': {
      if (!Array.isArray(value) || value.length === 0) fail(code, 'a non-empty list of IPv4 addresses', value);
      const b = Buffer.allocUnsafe(value.length * 4);
      value.forEach((ip, i) => b.writeUInt32BE(ipOf(code, ip), i * 4));
      return b;
    }
    case 'u8': if (!isInt(value, 0, 0xff)) fail(code, 'an integer 0..255', value); return Buffer.of(value);
    case 'u16': {
      if (!isInt(value, 0, 0xffff)) fail(code, 'an integer 0..65535', value);
      const b = Buffer.allocUnsafe(2); b.writeUInt16BE(value, 0); return b;
    }
    case 'u32': if (!isInt(value, 0, 0xffffffff)) fail(code, 'an integer 0..4294967295', value); return u32Buf(value);
    case 'i32': {
      if (!isInt(value, -0x80000000, 0x7fffffff)) fail(code, 'an integer -2147483648..2147483647', value);
      const b = Buffer.allocUnsafe(4); b.writeInt32BE(value, 0); return b;
    }
    case 'bool': if (typeof value !== 'boolean') fail(code, 'true or false', value); return Buffer.of(value ? 1 : 0);
    case 'string': {
      if (typeof value !== 'string' || value.length === 0) fail(code, 'a non-empty string', value);
      return Buffer.from(value, 'utf8');
    }
    case 'bytes': if (!Buffer.isBuffer(value)) fail(code, 'a Buffer', value); return Buffer.from(value);
    case 'u8s': case 'u16s': {
      const max = type === 'u8s' ? 0xff : 0xffff;
      if (!Array.isArray(value) || value.length === 0) fail(code, `a non-empty list of integers 0..${max}`, value);
      const w = type === 'u8s' ? 1 : 2;
      const b = Buffer.allocUnsafe(value.length * w);
      value.forEach((n, i) => {
        if (!isInt(n, 0, max)) fail(code, `a list of integers 0..${max}`, n);
        if (w === 1) b[i] = n; else b.writeUInt16BE(n, i * 2);
      });
      return b;
    }
    case 'ip-pairs': {
      if (!Array.isArray(value) || value.length === 0) fail(code, 'a non-empty list of {destination, router}', value);
      const b = Buffer.allocUnsafe(value.length * 8);
      value.forEach((r: unknown, i) => {
        if (typeof r !== 'object' || r === null) fail(code, 'a list of {destination, router}', r);
        const o = r as Record<string, unknown>;
        b.writeUInt32BE(ipOf(code, o.destination, 'destination'), i * 8);
        b.writeUInt32BE(ipOf(code, o.router, 'router'), i * 8 + 4);
      });
      return b;
    }
    case 'domain-list': {
      if (!Array.isArray(value) || value.length === 0 || !value.every((s) => typeof s === 'string')) {
        fail(code, 'a non-empty list of domain names', value);
      }
      const r = encodeDomainList(value as string[]);
      if (typeof r === 'string') throw new RangeError(`option ${code} (${optionName(code)}): ${r}`);
      return r;
    }
    case 'classless-routes': return encodeClasslessRoutes(code, value);
    case 'fqdn': return encodeFqdn(code, value);
    case 'relay-agent': return encodeRelayAgent(code, value);
    case 'client-id': {
      const o = value as Partial<ClientIdentifier> | null;
      if (typeof o !== 'object' || o === null || !isInt(o.type, 0, 255) || !Buffer.isBuffer(o.id)) fail(code, '{type: 0..255, id: Buffer}', value);
      return Buffer.concat([Buffer.of(o.type), o.id]);
    }
  }
}

function encodeClasslessRoutes(code: number, value: unknown): Buffer {
  if (!Array.isArray(value) || value.length === 0) fail(code, 'a non-empty list of {destination, prefix, router}', value);
  const parts: number[] = [];
  for (const r of value as unknown[]) {
    const o = r as Partial<ClasslessRoute> | null;
    if (typeof o !== 'object' || o === null || !isInt(o.prefix, 0, 32)) fail(code, 'a list of {destination, prefix 0..32, router}', r);
    const dest = ipOf(code, o.destination, 'destination');
    const mask = o.prefix === 0 ? 0 : (0xffffffff << (32 - o.prefix)) >>> 0;
    if (((dest & ~mask) >>> 0) !== 0) throw new RangeError(`option ${code} (${optionName(code)}): destination has host bits set beyond /${o.prefix}`);
    const router = ipOf(code, o.router, 'router');
    parts.push(o.prefix);
    for (let k = 0; k < (o.prefix + 7) >> 3; k++) parts.push((dest >>> (24 - 8 * k)) & 255);
    parts.push((router >>> 24) & 255, (router >>> 16) & 255, (router >>> 8) & 255, router & 255);
  }
  return Buffer.from(parts);
}

function encodeFqdn(code: number, value: unknown): Buffer {
  const o = value as Partial<ClientFqdn> | null;
  if (typeof o !== 'object' || o === null || !isInt(o.flags, 0, 255) || !isInt(o.rcode1 ?? 0, 0, 255)
    || !isInt(o.rcode2 ?? 0, 0, 255) || typeof o.name !== 'string') {
    fail(code, '{flags: 0..255, rcode1?: 0..255, rcode2?: 0..255, name: string}', value);
  }
  const head = Buffer.of(o.flags, o.rcode1 ?? 0, o.rcode2 ?? 0);
  if (!(o.flags & FQDN_E)) return Buffer.concat([head, Buffer.from(o.name, 'latin1')]);
  const full = o.name.endsWith('.');
  const r = encodeDomainName(full ? o.name.slice(0, -1) : o.name, full);
  if (typeof r === 'string') throw new RangeError(`option ${code} (${optionName(code)}): ${r}`);
  return Buffer.concat([head, r]);
}

function encodeRelayAgent(code: number, value: unknown): Buffer {
  const o = value as Partial<RelayAgentInfo> | null;
  if (typeof o !== 'object' || o === null) fail(code, 'a mapping of relay agent sub-options', value);
  const subs: RelaySubOption[] = [];
  const bufField = (sub: number, v: unknown, name: string): void => {
    if (v === undefined) return;
    if (!Buffer.isBuffer(v)) fail(code, `${name} as a Buffer`, v);
    subs.push({ code: sub, data: v });
  };
  bufField(RelaySub.CIRCUIT_ID, o.circuitId, 'circuitId');
  bufField(RelaySub.REMOTE_ID, o.remoteId, 'remoteId');
  if (o.linkSelection !== undefined) subs.push({ code: RelaySub.LINK_SELECTION, data: u32Buf(ipOf(code, o.linkSelection, 'linkSelection')) });
  if (o.subscriberId !== undefined) {
    if (typeof o.subscriberId !== 'string') fail(code, 'subscriberId as a string', o.subscriberId);
    subs.push({ code: RelaySub.SUBSCRIBER_ID, data: Buffer.from(o.subscriberId, 'utf8') });
  }
  if (o.serverIdOverride !== undefined) subs.push({ code: RelaySub.SERVER_ID_OVERRIDE, data: u32Buf(ipOf(code, o.serverIdOverride, 'serverIdOverride')) });
  for (const s of o.other ?? []) {
    if (!isInt(s?.code, 0, 255) || !Buffer.isBuffer(s.data)) fail(code, 'other as a list of {code: 0..255, data: Buffer}', s);
    subs.push(s);
  }
  if (subs.length === 0) fail(code, 'at least one sub-option', value);
  const parts: Buffer[] = [];
  for (const s of subs) {
    if (s.data.length > 255) throw new RangeError(`option ${code} (${optionName(code)}): sub-option ${s.code} is longer than 255 bytes`);
    parts.push(Buffer.of(s.code, s.data.length), s.data);
  }
  return Buffer.concat(parts);
}
