// Pool ownership as a settled pair sees it (address-ownership.ts), for tests that need to know or
// pick who owns an address: built from the engine's scope plans, or from plain ranges.
import { layoutOf, ownerIn, schemeOf, type Owner } from '../../src/failover/rules/address-ownership.ts';
import { ownsFree } from '../../src/failover/rules/ownership-handover.ts';
import type { ScopePlan } from '../../src/dhcp/pool.ts';
import type { Role } from '../../src/failover/protocol/state-machine.ts';
import type { Ipv4 } from '../../src/net/ipv4.ts';

export function ownerByPosition(plans: readonly ScopePlan[], secondaryPercent: number, ip: Ipv4): Owner | undefined {
  return ownerIn(schemeOf(layoutOf(plans), secondaryPercent), ip);
}

/** A policy `ownership` for one range, settled (no handover in progress). */
export function settledOwnership(role: Role, secondaryPercent: number, range: { start: Ipv4; end: Ipv4 }): { ownsFree: (ip: Ipv4) => boolean } {
  const settled = { role, current: schemeOf([{ intervals: [range], reserved: [] }], secondaryPercent), held: [] };
  return { ownsFree: (ip) => ownsFree(settled, ip) };
}
