// What the sim reproductions (stranded-expiry, mclt-new-binding) share: fleet clients picked by hash
// bucket, a bound lease and whether it still holds, and a pair of Sim servers brought to NORMAL.
import type { Decision } from '../../../src/dhcp/reply.ts';
import { bucketMapForPercent, shouldAnswer } from '../../../src/failover/rules/load-balance.ts';
import { parseIpv4 } from '../../../src/net/ipv4.ts';
import { macOf } from '../../fakes/relay-client.ts';
import { Sim } from './sim-pair.ts';

/** The relay address the chaos fleet uses (giaddr). */
export const GIADDR = parseIpv4('10.100.0.1');
const HBA = bucketMapForPercent(50, 'set-is-primary');

/** The `skip`-th fleet MAC (test/chaos/fleet.ts tag 200) whose hash bucket belongs to `role` (50/50). */
export function clientOf(role: 'primary' | 'secondary', skip = 0): string {
  for (let i = 0, found = 0; i < 10_000; i++) {
    const mac = macOf(200, i);
    const key = Buffer.from(mac.replace(/:/g, ''), 'hex');
    if (shouldAnswer({ map: HBA, key, role, polarity: 'set-is-primary', loadBalanceActive: true, secs: 0 }) && found++ === skip) return mac;
  }
  throw new Error('no client');
}

/** A lease a client was ACKed: the address, by whom, for how long, from when (the ACK's arrival). */
export interface Bound { readonly ip: string; readonly server: string; readonly leaseSeconds: number; readonly at: number }

export const typeOf = (d: Decision): number | undefined => (d.kind === 'reply' ? d.reply.options.get(53)?.[0] : undefined);
export const endOf = (b: Bound): number => b.at + b.leaseSeconds * 1000;
export const holds = (b: Bound, now: number): boolean => now < endOf(b);

/** Two Sim servers in NORMAL, with automatic sweeps off (each test sweeps where it says so). */
export async function normalPair(): Promise<Sim> {
  const s = new Sim();
  await s.setup();
  for (const srv of s.servers) srv.sweepMs = 0;
  await s.run(s.srv1.start());
  await s.run(s.srv2.start());
  await s.until('both NORMAL', () => s.srv1.state === 'normal' && s.srv2.state === 'normal');
  return s;
}
