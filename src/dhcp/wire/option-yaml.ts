// Config-file (YAML) option values → payload: `encodeOptionByName` takes a value as a config author
// writes it ("10.0.0.1", "01:aa:bb", "10.0.0.0/8", `on`), turns it into the typed value
// `encodeOption` takes, and encodes it. Used by config validation.
import type { Ipv4 } from '../../net/ipv4.ts';
import { parseCidr, parseIpv4 } from '../../net/ipv4.ts';
import { encodeOption, fail } from './option-codecs.ts';
import { OPTION_SPECS, optionCodeByName, optionName, type OptionType } from './option-table.ts';

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
