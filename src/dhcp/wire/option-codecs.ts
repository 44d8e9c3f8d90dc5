// The DHCP option table (RFC 2132 and friends) and typed codecs for option payloads.
// Messages keep options as raw Buffers (message.ts); this file turns them into typed values and back.
// Names follow ISC dhcpd's spelling where the project brief does not fix another one; ISC's `dhcp-*`
// spellings of the 50..61 options are accepted as aliases.
import { DecodeError } from '../../errors.ts';
import type { Ipv4 } from '../../net/ipv4.ts';
import type { DhcpMessage } from './message.ts';
import { parseCidr, parseIpv4 } from '../../net/ipv4.ts';
import { decodeDomainList, decodeDomainName, encodeDomainList, encodeDomainName } from './domain-names.ts';

export type OptionType =
  | 'ip' | 'ips' | 'u8' | 'u16' | 'u32' | 'i32' | 'string' | 'bool' | 'bytes' | 'u8s' | 'u16s' | 'ip-pairs'
  | 'domain-list' | 'classless-routes' | 'fqdn' | 'relay-agent' | 'client-id';

export interface OptionSpec { readonly name: string; readonly type: OptionType }

/** Option codes the server code refers to by name. */
export const Opt = {
  PAD: 0, SUBNET_MASK: 1, TIME_OFFSET: 2, ROUTERS: 3, DOMAIN_NAME_SERVERS: 6, HOST_NAME: 12, DOMAIN_NAME: 15,
  INTERFACE_MTU: 26, BROADCAST_ADDRESS: 28, STATIC_ROUTES: 33, NTP_SERVERS: 42, VENDOR_ENCAPSULATED: 43,
  REQUESTED_IP: 50, LEASE_TIME: 51, OVERLOAD: 52, MESSAGE_TYPE: 53, SERVER_ID: 54, PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56, MAX_MESSAGE_SIZE: 57, RENEWAL_TIME: 58, REBINDING_TIME: 59, VENDOR_CLASS_ID: 60, CLIENT_ID: 61,
  TFTP_SERVER_NAME: 66, BOOTFILE_NAME: 67, RAPID_COMMIT: 80, FQDN: 81, RELAY_AGENT_INFO: 82,
  SUBNET_SELECTION: 118, DOMAIN_SEARCH: 119, CLASSLESS_STATIC_ROUTES: 121, END: 255,
} as const;

export const OPTION_SPECS: Readonly<Record<number, OptionSpec>> = {
  1: { name: 'subnet-mask', type: 'ip' },
  2: { name: 'time-offset', type: 'i32' },
  3: { name: 'routers', type: 'ips' },
  4: { name: 'time-servers', type: 'ips' },
  5: { name: 'ien116-name-servers', type: 'ips' },
  6: { name: 'domain-name-servers', type: 'ips' },
  7: { name: 'log-servers', type: 'ips' },
  8: { name: 'cookie-servers', type: 'ips' },
  9: { name: 'lpr-servers', type: 'ips' },
  10: { name: 'impress-servers', type: 'ips' },
  11: { name: 'resource-location-servers', type: 'ips' },
  12: { name: 'host-name', type: 'string' },
  13: { name: 'boot-size', type: 'u16' },
  14: { name: 'merit-dump', type: 'string' },
  15: { name: 'domain-name', type: 'string' },
  16: { name: 'swap-server', type: 'ip' },
  17: { name: 'root-path', type: 'string' },
  18: { name: 'extensions-path', type: 'string' },
  19: { name: 'ip-forwarding', type: 'bool' },
  20: { name: 'non-local-source-routing', type: 'bool' },
  21: { name: 'policy-filter', type: 'ip-pairs' },
  22: { name: 'max-dgram-reassembly', type: 'u16' },
  23: { name: 'default-ip-ttl', type: 'u8' },
  24: { name: 'path-mtu-aging-timeout', type: 'u32' },
  25: { name: 'path-mtu-plateau-table', type: 'u16s' },
  26: { name: 'interface-mtu', type: 'u16' },
  27: { name: 'all-subnets-local', type: 'bool' },
  28: { name: 'broadcast-address', type: 'ip' },
  29: { name: 'perform-mask-discovery', type: 'bool' },
  30: { name: 'mask-supplier', type: 'bool' },
  31: { name: 'router-discovery', type: 'bool' },
  32: { name: 'router-solicitation-address', type: 'ip' },
  33: { name: 'static-routes', type: 'ip-pairs' },
  34: { name: 'trailer-encapsulation', type: 'bool' },
  35: { name: 'arp-cache-timeout', type: 'u32' },
  36: { name: 'ieee802-3-encapsulation', type: 'bool' },
  37: { name: 'default-tcp-ttl', type: 'u8' },
  38: { name: 'tcp-keepalive-interval', type: 'u32' },
  39: { name: 'tcp-keepalive-garbage', type: 'bool' },
  40: { name: 'nis-domain', type: 'string' },
  41: { name: 'nis-servers', type: 'ips' },
  42: { name: 'ntp-servers', type: 'ips' },
  43: { name: 'vendor-encapsulated-options', type: 'bytes' },
  44: { name: 'netbios-name-servers', type: 'ips' },
  45: { name: 'netbios-dd-server', type: 'ips' },
  46: { name: 'netbios-node-type', type: 'u8' },
  47: { name: 'netbios-scope', type: 'string' },
  48: { name: 'font-servers', type: 'ips' },
  49: { name: 'x-display-manager', type: 'ips' },
  50: { name: 'requested-ip-address', type: 'ip' },
  51: { name: 'ip-address-lease-time', type: 'u32' },
  52: { name: 'option-overload', type: 'u8' },
  53: { name: 'dhcp-message-type', type: 'u8' },
  54: { name: 'server-identifier', type: 'ip' },
  55: { name: 'parameter-request-list', type: 'u8s' },
  56: { name: 'message', type: 'string' },
  57: { name: 'max-message-size', type: 'u16' },
  58: { name: 'renewal-time', type: 'u32' },
  59: { name: 'rebinding-time', type: 'u32' },
  60: { name: 'vendor-class-identifier', type: 'string' },
  61: { name: 'client-identifier', type: 'client-id' },
  64: { name: 'nisplus-domain', type: 'string' },
  65: { name: 'nisplus-servers', type: 'ips' },
  66: { name: 'tftp-server-name', type: 'string' },
  67: { name: 'bootfile-name', type: 'string' },
  68: { name: 'mobile-ip-home-agent', type: 'ips' },
  69: { name: 'smtp-server', type: 'ips' },
  70: { name: 'pop-server', type: 'ips' },
  71: { name: 'nntp-server', type: 'ips' },
  72: { name: 'www-server', type: 'ips' },
  73: { name: 'finger-server', type: 'ips' },
  74: { name: 'irc-server', type: 'ips' },
  75: { name: 'streettalk-server', type: 'ips' },
  76: { name: 'streettalk-directory-assistance-server', type: 'ips' },
  77: { name: 'user-class', type: 'bytes' },
  80: { name: 'rapid-commit', type: 'bytes' },
  81: { name: 'fqdn', type: 'fqdn' },
  82: { name: 'relay-agent-information', type: 'relay-agent' },
  85: { name: 'nds-servers', type: 'ips' },
  86: { name: 'nds-tree-name', type: 'string' },
  87: { name: 'nds-context', type: 'string' },
  91: { name: 'client-last-transaction-time', type: 'u32' },
  92: { name: 'associated-ip', type: 'ips' },
  93: { name: 'pxe-system-type', type: 'u16s' },
  94: { name: 'pxe-interface-id', type: 'bytes' },
  97: { name: 'pxe-client-id', type: 'bytes' },
  100: { name: 'pcode', type: 'string' },
  101: { name: 'tcode', type: 'string' },
  108: { name: 'v6-only-preferred', type: 'u32' },
  114: { name: 'captive-portal', type: 'string' },
  116: { name: 'auto-config', type: 'u8' },
  118: { name: 'subnet-selection', type: 'ip' },
  119: { name: 'domain-search', type: 'domain-list' },
  121: { name: 'classless-static-routes', type: 'classless-routes' },
  124: { name: 'vivco', type: 'bytes' },
  125: { name: 'vivso', type: 'bytes' },
  150: { name: 'tftp-server-address', type: 'ips' },
  249: { name: 'ms-classless-static-routes', type: 'classless-routes' },
  252: { name: 'wpad-url', type: 'string' },
};

const ALIASES: Readonly<Record<string, number>> = {
  'dhcp-requested-address': 50, 'dhcp-lease-time': 51, 'dhcp-option-overload': 52, 'dhcp-server-identifier': 54,
  'dhcp-parameter-request-list': 55, 'dhcp-message': 56, 'dhcp-max-message-size': 57, 'dhcp-renewal-time': 58,
  'dhcp-rebinding-time': 59, 'dhcp-client-identifier': 61, 'agent-information': 82, 'domain-search-list': 119,
};

const CODE_BY_NAME: ReadonlyMap<string, number> = new Map([
  ...Object.entries(OPTION_SPECS).map(([code, spec]) => [spec.name, Number(code)] as const),
  ...Object.entries(ALIASES),
]);

/** Option code for a table name, an alias, or `option-<n>` (n in 1..254). */
export function optionCodeByName(name: string): number | undefined {
  const code = CODE_BY_NAME.get(name);
  if (code !== undefined) return code;
  const m = /^option-(\d{1,3})$/.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 && n <= 254 ? n : undefined;
}

/** The table name of a code, or `option-<n>` for codes not in the table. */
export function optionName(code: number): string {
  return OPTION_SPECS[code]?.name ?? `option-${code}`;
}

// ---------------------------------------------------------------------------------------------
// Typed values

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
function parseRelayAgent(data: Buffer): RelayAgentInfo | string {
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

function fail(code: number, expected: string, got: unknown): never {
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

// ---------------------------------------------------------------------------------------------
// Config-file values (YAML) → payload

function parseHex(code: number, v: unknown): Buffer {
  if (typeof v !== 'string') fail(code, 'hex bytes as a quoted string ("01:aa:bb" or "01aabb")', v);
  const t = v.trim();
  if (t === '') return Buffer.alloc(0);
  if (t.includes(':')) {
    const parts = t.split(':');
    if (!parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) fail(code, 'hex bytes like "01:aa:bb"', v);
    return Buffer.from(parts.map((p) => parseInt(p, 16)));
  }
  const h = t.startsWith('0x') ? t.slice(2) : t;
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) fail(code, 'hex bytes like "01aabb" (an even number of hex digits)', v);
  return Buffer.from(h, 'hex');
}

function yamlIp(code: number, v: unknown, what = 'an IPv4 address like "10.0.0.1"'): Ipv4 {
  if (typeof v !== 'string') fail(code, what, v);
  try { return parseIpv4(v.trim()); } catch { fail(code, what, v); }
}

function yamlList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((s) => s !== '');
  return [v];
}

function pick(o: Record<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined) return o[k];
  return undefined;
}

/** Turns a value as a YAML author writes it into the typed value `encodeOption` takes. */
function fromYaml(code: number, type: OptionType, v: unknown): unknown {
  switch (type) {
    case 'ip': return yamlIp(code, v);
    case 'ips': return yamlList(v).map((x) => yamlIp(code, x, 'a list of IPv4 addresses like [10.0.0.1, 10.0.0.2]'));
    case 'u8s': case 'u16s': return Array.isArray(v) ? v : [v];
    case 'bool':
      if (v === 0 || v === 1) return v === 1;
      if (v === 'on' || v === 'off') return v === 'on';
      return v;
    case 'string': if (typeof v === 'number') return String(v); return v;
    case 'bytes': return parseHex(code, v);
    case 'client-id': {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        return { type: o.type, id: parseHex(code, o.id) };
      }
      const b = parseHex(code, v);
      if (b.length < 1) fail(code, 'at least one byte of hex', v);
      return { type: b[0], id: b.subarray(1) };
    }
    case 'ip-pairs': {
      if (!Array.isArray(v)) fail(code, 'a list of {destination: "10.0.0.0", router: "10.1.1.1"} (or [destination, router] pairs)', v);
      return v.map((r: unknown) => {
        if (Array.isArray(r) && r.length === 2) return { destination: yamlIp(code, r[0]), router: yamlIp(code, r[1]) };
        if (typeof r !== 'object' || r === null) fail(code, 'a list of {destination, router} with IPv4 strings', r);
        const o = r as Record<string, unknown>;
        return { destination: yamlIp(code, pick(o, 'destination', 'address')), router: yamlIp(code, pick(o, 'router', 'mask')) };
      });
    }
    case 'domain-list': return yamlList(v);
    case 'classless-routes': {
      if (!Array.isArray(v)) fail(code, 'a list of {destination: "10.0.0.0/8", router: "10.1.1.1"}', v);
      return v.map((r: unknown) => {
        const o = r as Record<string, unknown> | null;
        if (typeof o !== 'object' || o === null || typeof o.destination !== 'string') {
          fail(code, 'a list of {destination: "10.0.0.0/8", router: "10.1.1.1"}', r);
        }
        let cidr;
        try { cidr = parseCidr(o.destination.trim()); } catch (err) { throw new RangeError(`option ${code} (${optionName(code)}): ${(err as Error).message}`); }
        return { destination: cidr.network, prefix: cidr.prefix, router: yamlIp(code, o.router) };
      });
    }
    case 'fqdn': {
      if (typeof v === 'string') return { flags: 0, rcode1: 0, rcode2: 0, name: v };
      return v;
    }
    case 'relay-agent': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        fail(code, 'a mapping with circuitId/remoteId (hex), linkSelection/serverIdOverride (IPv4), subscriberId (string)', v);
      }
      const o = v as Record<string, unknown>;
      const known = new Set(['circuitId', 'circuit-id', 'remoteId', 'remote-id', 'linkSelection', 'link-selection',
        'subscriberId', 'subscriber-id', 'serverIdOverride', 'server-id-override']);
      for (const k of Object.keys(o)) if (!known.has(k)) throw new TypeError(`option ${code} (${optionName(code)}): unknown sub-option ${JSON.stringify(k)}`);
      const hex = (x: unknown): Buffer | undefined => (x === undefined ? undefined : parseHex(code, x));
      const ipv = (x: unknown): Ipv4 | undefined => (x === undefined ? undefined : yamlIp(code, x));
      const sub = pick(o, 'subscriberId', 'subscriber-id');
      return {
        circuitId: hex(pick(o, 'circuitId', 'circuit-id')), remoteId: hex(pick(o, 'remoteId', 'remote-id')),
        linkSelection: ipv(pick(o, 'linkSelection', 'link-selection')),
        subscriberId: sub === undefined ? undefined : String(sub),
        serverIdOverride: ipv(pick(o, 'serverIdOverride', 'server-id-override')), other: [],
      };
    }
    default: return v;
  }
}

/**
 * Encodes a config-file value by option name (table name, alias or `option-<n>`). Codes outside the
 * table take a hex string. Throws TypeError/RangeError with a message naming the expected form.
 */
export function encodeOptionByName(name: string, value: unknown): { code: number; data: Buffer } {
  const code = optionCodeByName(name);
  if (code === undefined) throw new RangeError(`unknown option name ${JSON.stringify(name)} (use a name from the option table or option-<1..254>)`);
  const type: OptionType = OPTION_SPECS[code]?.type ?? 'bytes';
  const data = encodeOption(code, fromYaml(code, type, value));
  return { code, data };
}

// ---------------------------------------------------------------------------------------------
// Hot-path accessors: read one option straight from the raw payload. A payload of the wrong
// length counts as absent (undefined); they never throw.

function optIp(m: DhcpMessage, code: number): Ipv4 | undefined {
  const b = m.options.get(code);
  return b !== undefined && b.length === 4 ? b.readUInt32BE(0) : undefined;
}

function optU32(m: DhcpMessage, code: number): number | undefined {
  const b = m.options.get(code);
  return b !== undefined && b.length === 4 ? b.readUInt32BE(0) : undefined;
}

export function getMessageType(m: DhcpMessage): number | undefined {
  const b = m.options.get(Opt.MESSAGE_TYPE);
  return b !== undefined && b.length === 1 ? b[0] : undefined;
}

export function getRequestedIp(m: DhcpMessage): Ipv4 | undefined { return optIp(m, Opt.REQUESTED_IP); }
export function getServerId(m: DhcpMessage): Ipv4 | undefined { return optIp(m, Opt.SERVER_ID); }
export function getSubnetSelection(m: DhcpMessage): Ipv4 | undefined { return optIp(m, Opt.SUBNET_SELECTION); }
export function getLeaseTime(m: DhcpMessage): number | undefined { return optU32(m, Opt.LEASE_TIME); }

/** Lowercase hex of the whole option 61 payload (type byte included). */
export function getClientId(m: DhcpMessage): string | undefined {
  const b = m.options.get(Opt.CLIENT_ID);
  return b !== undefined && b.length > 0 ? b.toString('hex') : undefined;
}

export function getParameterRequestList(m: DhcpMessage): number[] | undefined {
  const b = m.options.get(Opt.PARAMETER_REQUEST_LIST);
  return b === undefined ? undefined : Array.from(b);
}

export function getMaxMessageSize(m: DhcpMessage): number | undefined {
  const b = m.options.get(Opt.MAX_MESSAGE_SIZE);
  return b !== undefined && b.length === 2 ? b.readUInt16BE(0) : undefined;
}

/** Option 12 as text, trailing NULs (sent by some clients) removed; empty counts as absent. */
export function getHostname(m: DhcpMessage): string | undefined {
  const b = m.options.get(Opt.HOST_NAME);
  if (b === undefined) return undefined;
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return end === 0 ? undefined : b.toString('utf8', 0, end);
}

/** Option 82 sub-options; a malformed payload counts as absent. */
export function getRelayAgentInfo(m: DhcpMessage): RelayAgentInfo | undefined {
  const b = m.options.get(Opt.RELAY_AGENT_INFO);
  if (b === undefined) return undefined;
  const r = parseRelayAgent(b);
  return typeof r === 'string' ? undefined : r;
}
