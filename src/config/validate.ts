// RawConfig (whatever the YAML file held) → frozen Config, or a ConfigError listing EVERY problem
// with the path of the bad field (`scopes[2].ranges[0].start: not an IPv4 address`). Pure: no
// file system, no network, no clock. Defaults and bounds come from defaults.ts only.
import { encodeOptionByName } from '../dhcp/wire/option-codecs.ts';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import { broadcastOf, cidrContains, formatCidr, formatIpv4, maskOf, parseCidr, parseIpv4, type Cidr, type Ipv4 } from '../net/ipv4.ts';
import { BOUNDS, DEFAULTS, LOG_LEVELS, NAME_PATTERN, STORE_TYPES } from './defaults.ts';
import { LIMITS_BOUNDS, LIMITS_DEFAULTS, type LimitsConfig } from '../dhcp/admission.ts';
import { validateFailover } from './failover.ts';
import type { Config, FailoverConfig, IpRange, Reservation, Scope, ServerConfig, StoreConfig } from './schema.ts';

type Obj = Record<string, unknown>;
type Bounds = { readonly min: number; readonly max: number };

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
  root: ['server', 'scopes', 'allowEmptyScopes', 'failover'],
  server: ['name', 'serverId', 'listen', 'admin', 'store', 'declineHoldSeconds', 'offerHoldSeconds', 'logLevel', 'limits'],
  listen: ['address', 'port', 'interfaces'],
  limits: Object.keys(LIMITS_DEFAULTS) as (keyof LimitsConfig)[],
  admin: ['address', 'port', 'tokenFile'],
  memory: ['type'],
  redis: ['type', 'url', 'path', 'password', 'passwordFile', 'keyPrefix'],
  scope: ['name', 'subnet', 'ranges', 'exclusions', 'reservations', 'options', 'leaseSeconds', 'active', 'interface'],
  range: ['start', 'end'],
  reservation: ['ip', 'hwAddress', 'clientId', 'hostname', 'options'],
} as const;

/** Collects problems; every reader returns undefined for a missing or bad value after reporting it. */
class Problems {
  readonly list: ConfigProblem[] = [];
  add(path: string, message: string): void { this.list.push({ path, message }); }
}

const at = (path: string, key: string): string => (path ? `${path}.${key}` : key);
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`);

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

/** A mapping holding only `allowed` keys; each unknown key is reported at its own path. */
function mapping(p: Problems, value: unknown, path: string, allowed: readonly string[]): Obj | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date) {
    p.add(path || '(root)', `expected a mapping, got ${describe(value)}`);
    return undefined;
  }
  const obj = value as Obj;
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((k) => editDistance(k, key) <= 2);
    p.add(at(path, key), `unknown key${near ? ` (did you mean "${near}"?)` : ''}; allowed: ${allowed.join(', ')}`);
  }
  return obj;
}

function list(p: Problems, obj: Obj, key: string, path: string, required: boolean): unknown[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) { if (required) p.add(at(path, key), 'required'); return undefined; }
  if (!Array.isArray(v)) { p.add(at(path, key), `expected a list, got ${describe(v)}`); return undefined; }
  return v;
}

function str(p: Problems, obj: Obj, key: string, path: string, required: boolean): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) { if (required) p.add(at(path, key), 'required'); return undefined; }
  if (typeof v !== 'string') { p.add(at(path, key), `expected a string, got ${describe(v)} (quote it in YAML)`); return undefined; }
  if (v.trim() === '') { p.add(at(path, key), 'must not be empty'); return undefined; }
  return v;
}

function int(p: Problems, obj: Obj, key: string, path: string, bounds: Bounds, fallback: number): number {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) { p.add(at(path, key), `expected an integer, got ${describe(v)}`); return fallback; }
  if (v < bounds.min || v > bounds.max) { p.add(at(path, key), `${v} is out of range ${bounds.min}..${bounds.max}`); return fallback; }
  return v;
}

function bool(p: Problems, obj: Obj, key: string, path: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') { p.add(at(path, key), `expected true or false, got ${describe(v)}`); return fallback; }
  return v;
}

function oneOf<T extends string>(p: Problems, obj: Obj, key: string, path: string, allowed: readonly T[], fallback: T | undefined): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) { if (fallback === undefined) p.add(at(path, key), 'required'); return fallback; }
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) { p.add(at(path, key), `must be one of ${allowed.join(', ')}, got ${describe(v)}`); return undefined; }
  return v as T;
}

function ipv4(p: Problems, obj: Obj, key: string, path: string, required: boolean): Ipv4 | undefined {
  const text = str(p, obj, key, path, required);
  if (text === undefined) return undefined;
  try { return parseIpv4(text.trim()); } catch { p.add(at(path, key), `not an IPv4 address: ${JSON.stringify(text)}`); return undefined; }
}

function name(p: Problems, obj: Obj, key: string, path: string): string | undefined {
  const v = str(p, obj, key, path, true);
  if (v !== undefined && !NAME_PATTERN.test(v)) { p.add(at(path, key), `${JSON.stringify(v)} must be 1-63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit`); return undefined; }
  return v;
}

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

function port(p: Problems, obj: Obj, path: string, fallback: number): number { return int(p, obj, 'port', path, BOUNDS.port, fallback); }

/** The listen section and whether its address was usable (a bad one is reported once, not again as a missing serverId). */
function validateListen(p: Problems, raw: unknown, path: string): { listen: ServerConfig['listen']; addressOk: boolean } {
  const o = raw === undefined || raw === null ? {} : mapping(p, raw, path, KEYS.listen) ?? {};
  const address = ipv4(p, o, 'address', path, false);
  const interfaces: string[] = [];
  const names = list(p, o, 'interfaces', path, false) ?? [];
  names.forEach((n, i) => {
    const item = `${path}.interfaces[${i}]`;
    if (typeof n !== 'string' || n.trim() === '') p.add(item, `expected an interface name, got ${describe(n)}`);
    else if (interfaces.includes(n)) p.add(item, `duplicate interface ${JSON.stringify(n)}`);
    else interfaces.push(n);
  });
  const listen = { address: address === undefined ? DEFAULTS.listenAddress : formatIpv4(address), port: port(p, o, path, DEFAULTS.listenPort), interfaces };
  return { listen, addressOk: address !== undefined || o.address === undefined || o.address === null };
}

function validateAdmin(p: Problems, raw: unknown, path: string): ServerConfig['admin'] {
  const o = raw === undefined || raw === null ? {} : mapping(p, raw, path, KEYS.admin) ?? {};
  const address = ipv4(p, o, 'address', path, false);
  const tokenFile = absolutePath(p, o, 'tokenFile', path);
  return {
    address: address === undefined ? DEFAULTS.adminAddress : formatIpv4(address), port: port(p, o, path, DEFAULTS.adminPort),
    ...(tokenFile !== undefined ? { tokenFile } : {}),
  };
}

function absolutePath(p: Problems, o: Obj, key: string, path: string): string | undefined {
  const v = str(p, o, key, path, false);
  if (v !== undefined && !v.startsWith('/')) { p.add(at(path, key), `must be an absolute path, got ${JSON.stringify(v)}`); return undefined; }
  return v;
}

function validateStore(p: Problems, raw: unknown, path: string): StoreConfig {
  if (raw === undefined || raw === null) return { type: DEFAULTS.storeType };
  const loose = mapping(p, raw, path, [...KEYS.memory, ...KEYS.redis]);
  if (!loose) return { type: DEFAULTS.storeType };
  const type = oneOf(p, loose, 'type', path, STORE_TYPES, undefined);
  if (type === 'memory') {
    for (const key of Object.keys(loose)) if (key !== 'type' && KEYS.redis.includes(key as never)) p.add(at(path, key), 'only valid with type: redis');
    return { type: 'memory' };
  }
  if (type !== 'redis') return { type: DEFAULTS.storeType };
  const url = str(p, loose, 'url', path, false);
  if (url !== undefined) {
    let scheme = '';
    try { scheme = new URL(url).protocol; } catch { /* reported below */ }
    if (scheme !== 'redis:' && scheme !== 'rediss:') p.add(at(path, 'url'), 'must be a redis:// or rediss:// URL');
  }
  const socket = absolutePath(p, loose, 'path', path);
  if (url !== undefined && socket !== undefined) p.add(path, 'give either url or path, not both');
  if (loose.url === undefined && loose.path === undefined) p.add(path, 'type redis needs url (redis://host:6379/0) or path (a Unix socket)');
  const password = str(p, loose, 'password', path, false);
  const passwordFile = absolutePath(p, loose, 'passwordFile', path);
  if (password !== undefined && passwordFile !== undefined) p.add(path, 'give either password or passwordFile, not both');
  const keyPrefix = loose.keyPrefix === undefined ? DEFAULTS.redisKeyPrefix : str(p, loose, 'keyPrefix', path, false) ?? DEFAULTS.redisKeyPrefix;
  return {
    type: 'redis', keyPrefix,
    ...(url !== undefined && { url }), ...(socket !== undefined && { path: socket }),
    ...(password !== undefined && { password }), ...(passwordFile !== undefined && { passwordFile }),
  };
}

/** `server.limits` (dhcp/admission.ts): every key optional; a rate given without its burst gets twice the rate as burst (a rate without a burst would admit nothing). */
function limits(p: Problems, raw: unknown, path: string): LimitsConfig {
  if (raw === undefined || raw === null) return LIMITS_DEFAULTS;
  const o = mapping(p, raw, path, KEYS.limits);
  if (o === undefined) return LIMITS_DEFAULTS;
  const out = { ...LIMITS_DEFAULTS };
  for (const key of KEYS.limits) out[key] = int(p, o, key, path, LIMITS_BOUNDS[key], LIMITS_DEFAULTS[key]);
  const given = (key: keyof LimitsConfig): boolean => o[key] !== undefined && o[key] !== null;
  if (given('clientRatePerSecond') && !given('clientBurst')) out.clientBurst = 2 * out.clientRatePerSecond;
  if (given('relayRatePerSecond') && !given('relayBurst')) out.relayBurst = 2 * out.relayRatePerSecond;
  return out;
}

/** `server.limits` on its own, with its problems (tests). */
export function validateLimits(raw: unknown, path = 'server.limits'): { config: LimitsConfig; problems: ConfigProblem[] } {
  const p = new Problems();
  const config = limits(p, raw, path);
  return { config, problems: p.list };
}

function validateServer(p: Problems, raw: unknown): ServerConfig | undefined {
  const path = 'server';
  if (raw === undefined || raw === null) { p.add(path, 'required'); return undefined; }
  const o = mapping(p, raw, path, KEYS.server);
  if (!o) return undefined;
  const serverName = name(p, o, 'name', path);
  const { listen, addressOk } = validateListen(p, o.listen, at(path, 'listen'));
  const admin = validateAdmin(p, o.admin, at(path, 'admin'));
  let serverId = ipv4(p, o, 'serverId', path, false);
  if (serverId === undefined && (o.serverId === undefined || o.serverId === null) && addressOk) {
    if (listen.address === '0.0.0.0') p.add(at(path, 'serverId'), 'required when server.listen.address is 0.0.0.0: the address clients and relays send to (option 54)');
    else serverId = parseIpv4(listen.address);
  }
  if (serverId === 0 || serverId === 0xffffffff) { p.add(at(path, 'serverId'), `${formatIpv4(serverId)} cannot identify a server`); serverId = undefined; }
  const server = {
    name: serverName, serverId, listen, admin,
    store: validateStore(p, o.store, at(path, 'store')),
    declineHoldSeconds: int(p, o, 'declineHoldSeconds', path, BOUNDS.declineHoldSeconds, DEFAULTS.declineHoldSeconds),
    offerHoldSeconds: int(p, o, 'offerHoldSeconds', path, BOUNDS.offerHoldSeconds, DEFAULTS.offerHoldSeconds),
    logLevel: oneOf(p, o, 'logLevel', path, LOG_LEVELS, DEFAULTS.logLevel) ?? DEFAULTS.logLevel,
    limits: limits(p, o.limits, at(path, 'limits')),
  };
  if (server.name === undefined || server.serverId === undefined) return undefined;
  return server as ServerConfig;
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

function validateScope(p: Problems, raw: unknown, path: string, listenInterfaces: readonly string[] | undefined): Scope | undefined {
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
  if (scopeName === undefined || subnet === undefined) return undefined;
  return {
    name: scopeName, subnet, ranges, exclusions, reservations, options: new FrozenMap(options), leaseSeconds, active,
    ...(iface !== undefined && { interface: iface }),
  };
}

function validateScopes(p: Problems, root: Obj, listenInterfaces: readonly string[] | undefined): Scope[] {
  const out: { scope: Scope; index: number }[] = [];
  (list(p, root, 'scopes', '', false) ?? []).forEach((raw, i) => {
    const path = `scopes[${i}]`;
    const scope = validateScope(p, raw, path, listenInterfaces);
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

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

/** Validates a parsed config file. `source` (a file name) prefixes the error message. */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const p = new Problems();
  const root = mapping(p, raw, '', KEYS.root);
  if (!root) throw new ConfigError(p.list, source);
  const server = validateServer(p, root.server);
  const scopes = validateScopes(p, root, server?.listen.interfaces);
  const allowEmptyScopes = bool(p, root, 'allowEmptyScopes', '', DEFAULTS.allowEmptyScopes);
  let failover: FailoverConfig | undefined;
  if (root.failover !== undefined && root.failover !== null) {
    const f = validateFailover(root.failover, 'failover');
    for (const problem of f.problems) p.add(problem.path, problem.message);
    failover = f.config;
  }
  if (p.list.length > 0 || !server) throw new ConfigError(p.list, source);
  return deepFreeze({ server, scopes, allowEmptyScopes, ...(failover !== undefined && { failover }) });
}
