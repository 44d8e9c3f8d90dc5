// The `scopes` list: each scope's subnet, ranges and exclusions (inside the subnet, no overlaps),
// reservations (address, client identity, host name), and DHCP options encoded by name through the
// option codec of src/dhcp/wire/; which failover relationship serves each scope (resolved by
// relationships.ts); across scopes, unique names and no overlapping subnets.
// validate.ts calls `validateScopes`.
import { encodeOptionByName } from '../dhcp/wire/option-yaml.ts';
import { broadcastOf, cidrContains, formatCidr, formatIpv4, maskOf, parseCidr, parseIpv4, type Cidr, type Ipv4 } from '../net/ipv4.ts';
import { BOUNDS, DEFAULTS } from './defaults.ts';
import { at, bool, describe, int, ipv4, list, mapping, name, str, type Obj, type Problems } from './field-readers.ts';
import { scopeRelationship, type DeclaredRelationships } from './relationships.ts';
import type { IpRange, Reservation, Scope } from './schema.ts';

const OPT_SUBNET_MASK = 1;
const OPT_BROADCAST = 28;

/** Options the server sets itself on every reply; configuring them would be silently ignored or conflict. */
const SERVER_OWNED_OPTIONS: ReadonlyMap<number, string> = new Map([
  [0, 'pad is not an option'], [255, 'end is not an option'],
  [50, 'sent by clients only'], [51, 'set from leaseSeconds'], [52, 'managed by the packet encoder'],
  [53, 'set by the server'], [54, 'set from server.serverId'], [55, 'sent by clients only'],
  [57, 'sent by clients only'], [58, 'derived from leaseSeconds'], [59, 'derived from leaseSeconds'],
  [61, 'sent by clients only; use reservations[].clientId'], [82, 'added by relay agents only'],
]);

const KEYS = {
  scope: ['name', 'subnet', 'ranges', 'exclusions', 'reservations', 'options', 'leaseSeconds', 'active', 'interface', 'relationship'],
  range: ['start', 'end'],
  reservation: ['ip', 'hwAddress', 'clientId', 'hostname', 'options'],
} as const;

function cidr(p: Problems, obj: Obj, key: string, path: string): Cidr | undefined {
  const text = str(p, obj, key, path, true);
  if (text === undefined) return undefined;
  const [addr, len] = text.trim().split('/');
  let parsed: Cidr;
  try { parsed = parseCidr(text.trim()); } catch {
    if (addr !== undefined && len !== undefined && /^\d{1,2}$/.test(len) && Number(len) <= 32) {
      try {
        const network = (parseIpv4(addr) & maskOf(Number(len))) >>> 0;
        p.add(at(path, key), `host bits set in ${JSON.stringify(text)} (did you mean ${formatIpv4(network)}/${len}?)`);
        return undefined;
      } catch { /* not an address either: reported below */ }
    }
    p.add(at(path, key), `not an IPv4 subnet (a.b.c.d/len): ${JSON.stringify(text)}`);
    return undefined;
  }
  const { min, max } = BOUNDS.subnetPrefix;
  if (parsed.prefix < min || parsed.prefix > max) { p.add(at(path, key), `prefix /${parsed.prefix} is out of range /${min}../${max}`); return undefined; }
  return parsed;
}

/** A Map whose contents cannot change after construction (Object.freeze does not reach a Map's entries). */
class FrozenMap<K, V> extends Map<K, V> {
  #sealed = false;
  constructor(entries: Iterable<readonly [K, V]>) {
    super();
    for (const [k, v] of entries) super.set(k, v);
    this.#sealed = true;
    Object.freeze(this);
  }
  override set(key: K, value: V): this { if (this.#sealed) throw new TypeError('config options are read-only'); return super.set(key, value); }
  override delete(_key: K): boolean { throw new TypeError('config options are read-only'); }
  override clear(): void { throw new TypeError('config options are read-only'); }
}

function validateOptions(p: Problems, raw: unknown, path: string): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Date) { p.add(path, `expected a mapping of option name to value, got ${describe(raw)}`); return out; }
  const firstName = new Map<number, string>();
  for (const [optName, value] of Object.entries(raw as Obj)) {
    const optPath = at(path, optName);
    let encoded: { code: number; data: Buffer };
    try { encoded = encodeOptionByName(optName, value); } catch (err) {
      p.add(optPath, err instanceof Error ? err.message : String(err));
      continue;
    }
    const owned = SERVER_OWNED_OPTIONS.get(encoded.code);
    if (owned !== undefined) { p.add(optPath, `option ${encoded.code} cannot be configured: ${owned}`); continue; }
    const earlier = firstName.get(encoded.code);
    if (earlier !== undefined) { p.add(optPath, `option ${encoded.code} is already given as ${JSON.stringify(earlier)}`); continue; }
    firstName.set(encoded.code, optName);
    out.set(encoded.code, Buffer.from(encoded.data));
  }
  return out;
}

function u32(ip: Ipv4): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(ip >>> 0); return b; }

function validateRange(p: Problems, raw: unknown, path: string, subnet: Cidr | undefined, isPool: boolean): IpRange | undefined {
  const o = mapping(p, raw, path, KEYS.range);
  if (!o) return undefined;
  const start = ipv4(p, o, 'start', path, true);
  const end = ipv4(p, o, 'end', path, true);
  if (subnet) {
    for (const [key, ip] of [['start', start], ['end', end]] as const) {
      if (ip !== undefined && !cidrContains(subnet, ip)) p.add(at(path, key), `${formatIpv4(ip)} is outside the subnet ${formatCidr(subnet)}`);
    }
  }
  if (start === undefined || end === undefined) return undefined;
  if (start > end) { p.add(path, `start ${formatIpv4(start)} is after end ${formatIpv4(end)}`); return undefined; }
  if (isPool && subnet) {
    if (start <= subnet.network && subnet.network <= end) p.add(path, `includes the network address ${formatIpv4(subnet.network)}`);
    const broadcast = broadcastOf(subnet);
    if (start <= broadcast && broadcast <= end) p.add(path, `includes the broadcast address ${formatIpv4(broadcast)}`);
  }
  return { start, end };
}

function validateRanges(p: Problems, o: Obj, key: 'ranges' | 'exclusions', path: string, subnet: Cidr | undefined): IpRange[] {
  const out: { range: IpRange; index: number }[] = [];
  (list(p, o, key, path, key === 'ranges') ?? []).forEach((raw, i) => {
    const itemPath = `${at(path, key)}[${i}]`;
    const range = validateRange(p, raw, itemPath, subnet, key === 'ranges');
    if (!range) return;
    const clash = out.find((r) => r.range.start <= range.end && range.start <= r.range.end);
    if (clash) p.add(itemPath, `overlaps ${at(path, key)}[${clash.index}]`);
    out.push({ range, index: i });
  });
  return out.map((r) => r.range);
}

const HW_ADDRESS = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

function clientIdHex(p: Problems, o: Obj, path: string): string | undefined {
  const text = str(p, o, 'clientId', path, false);
  if (text === undefined) return undefined;
  const compact = text.includes(':') || text.includes('-')
    ? (/^[0-9a-f]{1,2}(?:[:-][0-9a-f]{1,2})*$/i.test(text) ? text.split(/[:-]/).map((b) => b.padStart(2, '0')).join('') : undefined)
    : (/^(?:[0-9a-f]{2})+$/i.test(text) ? text : undefined);
  if (compact === undefined) { p.add(at(path, 'clientId'), `expected hex bytes ("01:aa:bb:cc:dd:ee:ff" or "01aabbccddeeff"), got ${JSON.stringify(text)}`); return undefined; }
  const bytes = compact.length / 2;
  const { min, max } = BOUNDS.clientIdBytes;
  if (bytes < min || bytes > max) { p.add(at(path, 'clientId'), `${bytes} byte(s); a client identifier has ${min}..${max}`); return undefined; }
  return compact.toLowerCase();
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function validateReservations(p: Problems, o: Obj, path: string, subnet: Cidr | undefined): Reservation[] {
  const out: Reservation[] = [];
  const seen = { ip: new Map<Ipv4, number>(), hw: new Map<string, number>(), clientId: new Map<string, number>() };
  const dup = <K>(map: Map<K, number>, key: K, i: number, itemPath: string, field: string): void => {
    const first = map.get(key);
    if (first !== undefined) p.add(at(itemPath, field), `duplicate of ${path}.reservations[${first}].${field}`);
    else map.set(key, i);
  };
  (list(p, o, 'reservations', path, false) ?? []).forEach((raw, i) => {
    const itemPath = `${path}.reservations[${i}]`;
    const r = mapping(p, raw, itemPath, KEYS.reservation);
    if (!r) return;
    const ip = ipv4(p, r, 'ip', itemPath, true);
    if (ip !== undefined && subnet) {
      if (!cidrContains(subnet, ip)) p.add(at(itemPath, 'ip'), `${formatIpv4(ip)} is outside the subnet ${formatCidr(subnet)}`);
      else if (ip === subnet.network || ip === broadcastOf(subnet)) p.add(at(itemPath, 'ip'), `${formatIpv4(ip)} is the ${ip === subnet.network ? 'network' : 'broadcast'} address`);
    }
    if (ip !== undefined) dup(seen.ip, ip, i, itemPath, 'ip');
    let hw: string | undefined;
    const mac = str(p, r, 'hwAddress', itemPath, false);
    if (mac !== undefined) {
      if (!HW_ADDRESS.test(mac)) p.add(at(itemPath, 'hwAddress'), `expected an Ethernet address like "aa:bb:cc:dd:ee:ff", got ${JSON.stringify(mac)}`);
      else { hw = `1:${mac.replaceAll(':', '').toLowerCase()}`; dup(seen.hw, hw, i, itemPath, 'hwAddress'); }
    }
    const clientId = clientIdHex(p, r, itemPath);
    if (clientId !== undefined) dup(seen.clientId, clientId, i, itemPath, 'clientId');
    if (r.hwAddress === undefined && r.clientId === undefined) p.add(itemPath, 'needs hwAddress or clientId to know which client it is for');
    const hostname = str(p, r, 'hostname', itemPath, false);
    if (hostname !== undefined && (hostname.length > 255 || !HOSTNAME.test(hostname))) p.add(at(itemPath, 'hostname'), `not a valid host name: ${JSON.stringify(hostname)}`);
    const options = validateOptions(p, r.options, at(itemPath, 'options'));
    if (ip === undefined) return;
    out.push({
      ip, options: new FrozenMap(options),
      ...(hw !== undefined && { hw }), ...(clientId !== undefined && { clientId }), ...(hostname !== undefined && { hostname }),
    });
  });
  return out;
}

/** What a scope is checked against besides its own fields. */
export interface ScopeContext {
  /** `server.listen.interfaces`; undefined when `server` is invalid (a scope's `interface` is then not checked). */
  readonly listenInterfaces: readonly string[] | undefined;
  readonly relationships: DeclaredRelationships;
}

function validateScope(p: Problems, raw: unknown, path: string, ctx: ScopeContext): Scope | undefined {
  const { listenInterfaces } = ctx;
  const o = mapping(p, raw, path, KEYS.scope);
  if (!o) return undefined;
  const scopeName = name(p, o, 'name', path);
  const subnet = cidr(p, o, 'subnet', path);
  const ranges = validateRanges(p, o, 'ranges', path, subnet);
  const exclusions = validateRanges(p, o, 'exclusions', path, subnet);
  const reservations = validateReservations(p, o, path, subnet);
  const options = validateOptions(p, o.options, at(path, 'options'));
  if (subnet) {
    if (!options.has(OPT_SUBNET_MASK)) options.set(OPT_SUBNET_MASK, u32(subnet.mask));
    if (!options.has(OPT_BROADCAST)) options.set(OPT_BROADCAST, u32(broadcastOf(subnet)));
  }
  const iface = str(p, o, 'interface', path, false);
  if (iface !== undefined && listenInterfaces !== undefined && !listenInterfaces.includes(iface)) {
    p.add(at(path, 'interface'), `${JSON.stringify(iface)} is not in server.listen.interfaces [${listenInterfaces.join(', ')}], so no direct client would reach this scope`);
  }
  const leaseSeconds = int(p, o, 'leaseSeconds', path, BOUNDS.leaseSeconds, DEFAULTS.leaseSeconds);
  const active = bool(p, o, 'active', path, DEFAULTS.scopeActive);
  const relationship = scopeRelationship(p, o, path, ctx.relationships);
  if (scopeName === undefined || subnet === undefined) return undefined;
  return {
    name: scopeName, subnet, ranges, exclusions, reservations, options: new FrozenMap(options), leaseSeconds, active,
    ...(iface !== undefined && { interface: iface }), ...(relationship !== undefined && { relationship }),
  };
}

/** `root.scopes` (optional); a scope with a bad name or subnet is reported and left out. */
export function validateScopes(p: Problems, root: Obj, ctx: ScopeContext): Scope[] {
  const out: { scope: Scope; index: number }[] = [];
  (list(p, root, 'scopes', '', false) ?? []).forEach((raw, i) => {
    const path = `scopes[${i}]`;
    const scope = validateScope(p, raw, path, ctx);
    if (!scope) return;
    for (const other of out) {
      if (other.scope.name === scope.name) p.add(`${path}.name`, `duplicate of scopes[${other.index}].name`);
      const a = other.scope.subnet, b = scope.subnet;
      if (cidrContains(a, b.network) || cidrContains(b, a.network)) p.add(`${path}.subnet`, `overlaps scopes[${other.index}].subnet (${formatCidr(a)})`);
    }
    out.push({ scope, index: i });
  });
  return out.map((s) => s.scope);
}
