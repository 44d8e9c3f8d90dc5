// IPv4 addresses are uint32 numbers in the core (cheap to compare, hash and range over);
// dotted strings appear only at the edges (config, logs, Redis keys, JSON).

export type Ipv4 = number;

export function parseIpv4(text: string): Ipv4 {
  const parts = text.split('.');
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
    const octet = Number(part);
    if (octet > 255) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
    value = value * 256 + octet;
  }
  return value;
}

export function isIpv4(text: string): boolean {
  try { parseIpv4(text); return true; } catch { return false; }
}

export function formatIpv4(ip: Ipv4): string {
  return `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

export interface Cidr { readonly network: Ipv4; readonly prefix: number; readonly mask: Ipv4 }

export function maskOf(prefix: number): Ipv4 {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "10.0.0.0/24"; host bits must be zero so a typo is not silently widened. */
export function parseCidr(text: string): Cidr {
  const [addr, len, extra] = text.split('/');
  if (addr === undefined || len === undefined || extra !== undefined || !/^\d{1,2}$/.test(len) || Number(len) > 32) {
    throw new RangeError(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  }
  const prefix = Number(len);
  const mask = maskOf(prefix);
  const network = parseIpv4(addr);
  if (((network & ~mask) >>> 0) !== 0) throw new RangeError(`host bits set in CIDR: ${JSON.stringify(text)}`);
  return { network, prefix, mask };
}

export function cidrContains(cidr: Cidr, ip: Ipv4): boolean {
  return ((ip & cidr.mask) >>> 0) === cidr.network;
}

export function broadcastOf(cidr: Cidr): Ipv4 {
  return (cidr.network | ~cidr.mask) >>> 0;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}
