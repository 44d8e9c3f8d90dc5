// Fixture builders for DHCP core tests: plain objects with modifiers, no parsing involved.
import type { Config, Reservation, Scope } from '../../src/config/schema.ts';
import { LIMITS_DEFAULTS } from '../../src/config/defaults.ts';
import { BOOTREQUEST, type DhcpMessage, type MessageType } from '../../src/dhcp/wire/message.ts';
import { parseCidr, parseIpv4, type Ipv4 } from '../../src/net/ipv4.ts';

export const ip = parseIpv4;

export function makeScope(overrides: Partial<Scope> & { subnetText?: string } = {}): Scope {
  const { subnetText, ...rest } = overrides;
  const subnet = parseCidr(subnetText ?? '10.0.0.0/24');
  return {
    name: 'lab', subnet,
    ranges: [{ start: ip('10.0.0.10'), end: ip('10.0.0.20') }],
    exclusions: [], reservations: [],
    options: new Map([[1, Buffer.from([255, 255, 255, 0])], [3, Buffer.from([10, 0, 0, 1])], [6, Buffer.from([10, 0, 0, 53])]]),
    leaseSeconds: 3600, active: true,
    ...rest,
  };
}

export function makeReservation(r: Partial<Reservation> & { ip: Ipv4 }): Reservation {
  return { options: new Map(), ...r };
}

export function makeConfig(scopes: Scope[], overrides: Partial<Config['server']> = {}): Config {
  return {
    server: {
      name: 'test', serverId: ip('10.0.0.2'),
      listen: { address: '127.0.0.1', port: 0, interfaces: ['eth0'] },
      admin: { address: '127.0.0.1', port: 0 },
      store: { type: 'memory' }, declineHoldSeconds: 600, offerHoldSeconds: 10, logLevel: 'error', limits: LIMITS_DEFAULTS,
      ...overrides,
    },
    scopes,
    allowEmptyScopes: false, relationships: [],
  };
}

export interface RequestSpec {
  type: MessageType;
  mac?: string;
  xid?: number;
  ciaddr?: Ipv4;
  giaddr?: Ipv4;
  flags?: number;
  requested?: Ipv4;
  serverId?: Ipv4;
  clientId?: Buffer;
  prl?: number[];
  leaseTime?: number;
  extra?: [number, Buffer][];
}

function u32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; }

export function makeRequest(spec: RequestSpec): DhcpMessage {
  const chaddr = Buffer.alloc(16);
  Buffer.from((spec.mac ?? '02:00:00:00:00:01').replace(/:/g, ''), 'hex').copy(chaddr);
  const options = new Map<number, Buffer>([[53, Buffer.of(spec.type)]]);
  if (spec.requested !== undefined) options.set(50, u32(spec.requested));
  if (spec.serverId !== undefined) options.set(54, u32(spec.serverId));
  if (spec.clientId !== undefined) options.set(61, spec.clientId);
  if (spec.prl !== undefined) options.set(55, Buffer.from(spec.prl));
  if (spec.leaseTime !== undefined) options.set(51, u32(spec.leaseTime));
  for (const [code, data] of spec.extra ?? []) options.set(code, data);
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: spec.xid ?? 0x1234, secs: 0, flags: spec.flags ?? 0,
    ciaddr: spec.ciaddr ?? 0, yiaddr: 0, siaddr: 0, giaddr: spec.giaddr ?? 0,
    chaddr, sname: Buffer.alloc(64), file: Buffer.alloc(128), options,
  };
}
