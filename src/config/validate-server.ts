// The `server` section: identity (name, serverId), listen and admin sockets, the lease store, hold
// times, log level and `server.limits` (the admission limits of src/dhcp/admission.ts), with the
// defaults and bounds of defaults.ts. validate.ts calls `validateServer`.
import type { ConfigProblem } from '../errors.ts';
import { formatIpv4, parseIpv4 } from '../net/ipv4.ts';
import { BOUNDS, DEFAULTS, LIMITS_BOUNDS, LIMITS_DEFAULTS, LOG_LEVELS, STORE_TYPES } from './defaults.ts';
import { at, describe, int, ipv4, list, mapping, name, oneOf, Problems, str, type Obj } from './field-readers.ts';
import type { LimitsConfig, ServerConfig, StoreConfig } from './schema.ts';

const KEYS = {
  server: ['name', 'serverId', 'listen', 'admin', 'store', 'declineHoldSeconds', 'offerHoldSeconds', 'logLevel', 'limits'],
  listen: ['address', 'port', 'interfaces'],
  limits: Object.keys(LIMITS_DEFAULTS) as (keyof LimitsConfig)[],
  admin: ['address', 'port', 'tokenFile'],
  memory: ['type'],
  redis: ['type', 'url', 'path', 'password', 'passwordFile', 'keyPrefix'],
} as const;

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

/** The `server` mapping; undefined when it is missing or its name or serverId is unusable (already reported). */
export function validateServer(p: Problems, raw: unknown): ServerConfig | undefined {
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
