// The server config of one member of a failover pair on loopback addresses (two processes on one
// host, memory stores, a relayed scope), shared by the tests that run real server processes.
export interface LoopbackMember {
  readonly name: string;
  readonly role: 'primary' | 'secondary';
  readonly self: string;
  readonly partner: string;
  readonly ports: { readonly dhcp: number; readonly failover: number; readonly admin: number };
  readonly relationship: string;
  /** The relayed scope: `<net>.0/24`, range `.100–.199`, router `.1`. */
  readonly net: string;
  readonly mcltSeconds: number;
  readonly sharedSecret: string;
  /** Bearer token file of the admin actions. */
  readonly tokenFile?: string;
}

export function loopbackMemberConfig(m: LoopbackMember): string {
  return `server:
  name: ${m.name}
  listen: { address: ${m.self}, port: ${m.ports.dhcp}, interfaces: [] }
  admin: { address: ${m.self}, port: ${m.ports.admin}${m.tokenFile ? `, tokenFile: ${m.tokenFile}` : ''} }
  store: { type: memory }
  logLevel: info
scopes:
  - name: relayed
    subnet: ${m.net}.0/24
    ranges: [{ start: ${m.net}.100, end: ${m.net}.199 }]
    options: { routers: [${m.net}.1] }
    leaseSeconds: 600
failover:
  relationship: ${m.relationship}
  role: ${m.role}
  address: ${m.self}
  port: ${m.ports.failover}
  partner: { address: ${m.partner}, port: ${m.ports.failover} }
  mode: load-balance
  mcltSeconds: ${m.mcltSeconds}
  maxResponseDelaySeconds: 3
  startupSeconds: 1
  sharedSecret: ${m.sharedSecret}
`;
}
