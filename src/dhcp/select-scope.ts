// Which scope a request belongs to (RFC 3527 link selection, RFC 3011 subnet selection, giaddr,
// then the client's own address, then the interface the server listens on). Pure.
import type { DhcpMessage } from './wire/message.ts';
import { getRelayAgentInfo, getSubnetSelection } from './wire/message-options.ts';
import type { Ipv4 } from '../net/ipv4.ts';
import { inSubnet, type ScopePlan } from './pool.ts';

export type ScopeSelector = 'link-selection' | 'subnet-selection' | 'giaddr' | 'ciaddr' | 'interface';

export interface ScopeChoice { readonly plan: ScopePlan; readonly by: ScopeSelector }

function scopeContaining(plans: readonly ScopePlan[], ip: Ipv4): ScopePlan | undefined {
  for (const plan of plans) if (inSubnet(plan, ip)) return plan;
  return undefined;
}

/**
 * `directScopes` are the scopes for non-relayed clients on the interface(s) this server listens
 * on. Node cannot tell which interface a broadcast arrived on (no IP_PKTINFO), so a server with
 * direct clients on several interfaces serves them from the first; see docs/config.md.
 */
export function selectScope(plans: readonly ScopePlan[], msg: DhcpMessage, directScopes: readonly ScopePlan[]): ScopeChoice | undefined {
  const link = msg.giaddr !== 0 ? getRelayAgentInfo(msg)?.linkSelection : undefined;
  if (link !== undefined) { const plan = scopeContaining(plans, link); return plan && { plan, by: 'link-selection' }; }
  const subnetSelection = getSubnetSelection(msg);
  if (subnetSelection !== undefined) { const plan = scopeContaining(plans, subnetSelection); return plan && { plan, by: 'subnet-selection' }; }
  if (msg.giaddr !== 0) { const plan = scopeContaining(plans, msg.giaddr); return plan && { plan, by: 'giaddr' }; }
  if (msg.ciaddr !== 0) { const plan = scopeContaining(plans, msg.ciaddr); return plan && { plan, by: 'ciaddr' }; }
  const plan = directScopes[0];
  return plan && { plan, by: 'interface' };
}
