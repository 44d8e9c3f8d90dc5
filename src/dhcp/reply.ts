// What to do with one client message (RFC 2131 §4.3): a pure function from (message, server view,
// now) to a decision. The UDP edge (server.ts) persists `commit` before it sends an ACK.
import { clientKeyOf, type Lease } from '../leases/lease.ts';
import type { LeaseView } from '../leases/lease-index.ts';
import type { Ipv4 } from '../net/ipv4.ts';
import { broadcastOf } from '../net/ipv4.ts';
import { availabilityOf, chooseAddress, ownUsable, type AllocationPolicy, type OfferView } from './allocate.ts';
import { BOOTREPLY, BOOTREQUEST, BROADCAST_FLAG, MessageType, type DhcpMessage } from './wire/message.ts';
import {
  getClientId, getHostname, getLeaseTime, getMessageType, getParameterRequestList, getRequestedIp, getServerId,
} from './wire/message-options.ts';
import type { Reservation } from '../config/schema.ts';
import { isDynamic, inSubnet, reservationFor, type ScopePlan } from './pool.ts';
import { selectScope, type ScopeSelector } from './select-scope.ts';

const OPT_SUBNET_MASK = 1, OPT_HOST_NAME = 12, OPT_RELAY_AGENT = 82, OPT_LEASE_TIME = 51, OPT_MESSAGE_TYPE = 53;
const OPT_SERVER_ID = 54, OPT_MESSAGE = 56, OPT_T1 = 58, OPT_T2 = 59;
const ALWAYS_SENT = new Set([OPT_MESSAGE_TYPE, OPT_SERVER_ID, OPT_LEASE_TIME, OPT_T1, OPT_T2, OPT_SUBNET_MASK]);
const MIN_LEASE_SECONDS = 60;

export const DROP_REASONS = [
  'not_request', 'no_message_type', 'unexpected_message_type', 'no_scope', 'scope_inactive', 'pool_exhausted',
  'other_server', 'no_client_id', 'unknown_client', 'not_our_lease', 'missing_requested_ip', 'bad_hlen',
  'failover_not_serving',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface Destination { readonly address: Ipv4; readonly port: number }

export type Decision =
  | { readonly kind: 'reply'; readonly reply: DhcpMessage; readonly to: Destination; readonly commit?: Lease;
      readonly offer?: { readonly ip: Ipv4; readonly clientKey: string; readonly until: number };
      readonly cursor?: { readonly scope: string; readonly value: number }; readonly scope?: string; readonly by?: ScopeSelector }
  | { readonly kind: 'commit'; readonly commit: Lease; readonly scope: string }
  | { readonly kind: 'drop'; readonly reason: DropReason; readonly scope?: string };

export interface ServeContext {
  readonly serverId: Ipv4;
  readonly plans: readonly ScopePlan[];
  /** Scopes for clients that are not relayed (see select-scope.ts). */
  readonly directScopes: readonly ScopePlan[];
  readonly leases: LeaseView;
  readonly offers: OfferView;
  readonly policy: AllocationPolicy;
  readonly cursors: ReadonlyMap<string, number>;
  readonly offerHoldSeconds: number;
  readonly declineHoldSeconds: number;
}

/** The identity a lease is stored under: option 61 when sent, else htype + hardware address. */
export function clientKeyOfMessage(msg: DhcpMessage): string | undefined {
  const clientId = getClientId(msg);
  if (clientId !== undefined) return `id:${clientId}`;
  if (msg.hlen === 0 || msg.hlen > 16) return undefined;
  return `hw:${hwKeyOf(msg)}`;
}

export function hwKeyOf(msg: DhcpMessage): string {
  return `${msg.htype}:${msg.chaddr.subarray(0, Math.min(msg.hlen, 16)).toString('hex')}`;
}

/** `clientKey`: clientKeyOfMessage(msg), when the caller has it already (the UDP edge's rate limit). */
export function decide(ctx: ServeContext, msg: DhcpMessage, now: number, clientKey = clientKeyOfMessage(msg)): Decision {
  if (msg.op !== BOOTREQUEST) return { kind: 'drop', reason: 'not_request' };
  const type = getMessageType(msg);
  if (type === undefined) return { kind: 'drop', reason: 'no_message_type' };
  if (clientKey === undefined) return { kind: 'drop', reason: 'no_client_id' };
  const choice = selectScope(ctx.plans, msg, ctx.directScopes);
  if (!choice) return { kind: 'drop', reason: 'no_scope' };
  const { plan } = choice;
  if (!plan.scope.active) return { kind: 'drop', reason: 'scope_inactive', scope: plan.scope.name };
  if (ctx.policy.mayAnswer && !ctx.policy.mayAnswer({ type, msg, clientKey, scope: plan.scope.name }, now)) {
    return { kind: 'drop', reason: 'failover_not_serving', scope: plan.scope.name };
  }
  const reservation = reservationFor(plan, clientKey, msg.hlen > 0 && msg.hlen <= 16 ? hwKeyOf(msg) : undefined);
  const request: Request = { ctx, msg, plan, clientKey, reservation, now, by: choice.by };
  switch (type) {
    case MessageType.DISCOVER: return discover(request);
    case MessageType.REQUEST: return requestMessage(request);
    case MessageType.DECLINE: return decline(request);
    case MessageType.RELEASE: return release(request);
    case MessageType.INFORM: return inform(request);
    default: return { kind: 'drop', reason: 'unexpected_message_type', scope: plan.scope.name };
  }
}

interface Request {
  readonly ctx: ServeContext; readonly msg: DhcpMessage; readonly plan: ScopePlan;
  readonly clientKey: string; readonly reservation: Reservation | undefined; readonly now: number; readonly by: ScopeSelector;
}

function discover(r: Request): Decision {
  const cursor = r.ctx.cursors.get(r.plan.scope.name) ?? 0;
  const choice = chooseAddress({
    plan: r.plan, leases: r.ctx.leases, offers: r.ctx.offers, policy: r.ctx.policy,
    client: { key: r.clientKey }, reservation: r.reservation, requested: getRequestedIp(r.msg), cursor, now: r.now,
  });
  if (!choice) return { kind: 'drop', reason: 'pool_exhausted', scope: r.plan.scope.name };
  const leaseSeconds = leaseSecondsFor(r, choice.ip);
  return {
    kind: 'reply', reply: buildReply(r, MessageType.OFFER, choice.ip, leaseSeconds), to: destinationOf(r, false),
    offer: { ip: choice.ip, clientKey: r.clientKey, until: r.now + r.ctx.offerHoldSeconds * 1000 },
    cursor: choice.source === 'pool' ? { scope: r.plan.scope.name, value: choice.cursor } : undefined,
    scope: r.plan.scope.name, by: r.by,
  };
}

/** SELECTING, INIT-REBOOT, RENEWING and REBINDING, told apart as RFC 2131 §4.3.2 does. */
function requestMessage(r: Request): Decision {
  const serverId = getServerId(r.msg);
  const requested = getRequestedIp(r.msg);
  if (serverId !== undefined) {
    if (serverId !== r.ctx.serverId) return { kind: 'drop', reason: 'other_server', scope: r.plan.scope.name };
    if (requested === undefined) return { kind: 'drop', reason: 'missing_requested_ip', scope: r.plan.scope.name };
    return mayBind(r, requested) ? ack(r, requested) : nak(r, 'requested address not available');
  }
  if (requested !== undefined && r.msg.ciaddr === 0) return initReboot(r, requested);
  if (r.msg.ciaddr !== 0) return renew(r, r.msg.ciaddr);
  return { kind: 'drop', reason: 'missing_requested_ip', scope: r.plan.scope.name };
}

function initReboot(r: Request, ip: Ipv4): Decision {
  if (!inSubnet(r.plan, ip)) return nak(r, 'wrong network');
  const lease = r.ctx.leases.get(ip);
  const availability = availabilityOf(lease, r.clientKey, r.now);
  if (availability === 'own' && !ownUsable(r.ctx.policy, ip, lease, r.now)) return nak(r, 'address not available');
  if (availability === 'own') return isBindable(r, ip) ? ack(r, ip) : nak(r, 'address no longer valid');
  if (availability === 'taken' || !isBindable(r, ip)) return nak(r, 'address not available');
  const other = r.ctx.leases.findByClient(r.plan.scope.name, r.clientKey);
  if (other && other.ip !== ip) return nak(r, 'client holds another address');
  // RFC 2131 §4.3.2: with no record of the client the server MUST remain silent.
  return { kind: 'drop', reason: 'unknown_client', scope: r.plan.scope.name };
}

function renew(r: Request, ip: Ipv4): Decision {
  if (!inSubnet(r.plan, ip)) return { kind: 'drop', reason: 'not_our_lease', scope: r.plan.scope.name };
  // A renewal for an address we have no record of (a lost lease store) is granted when the address is
  // ours to give, as Kea does; the client keeps its address.
  return mayBind(r, ip) ? ack(r, ip) : nak(r, 'address not available');
}

/** The address is valid for this client in this scope and nobody else holds it. */
function isBindable(r: Request, ip: Ipv4): boolean {
  if (r.reservation) return r.reservation.ip === ip;
  return isDynamic(r.plan, ip);
}

function mayBind(r: Request, ip: Ipv4): boolean {
  if (!isBindable(r, ip)) return false;
  const lease = r.ctx.leases.get(ip);
  const availability = availabilityOf(lease, r.clientKey, r.now);
  if (availability === 'taken') return false;
  if (r.ctx.offers.isHeldByOther(ip, r.clientKey, r.now)) return false;
  return (availability === 'own' && ownUsable(r.ctx.policy, ip, lease, r.now)) || r.ctx.policy.mayAllocate(ip, lease, r.now);
}

function ack(r: Request, ip: Ipv4): Decision {
  const leaseSeconds = leaseSecondsFor(r, ip);
  const hostname = r.reservation?.hostname ?? getHostname(r.msg);
  const clientId = getClientId(r.msg);
  const commit: Lease = {
    ip, scope: r.plan.scope.name, state: 'active', hw: hwKeyOf(r.msg),
    ...(clientId !== undefined ? { clientId } : {}), ...(hostname !== undefined ? { hostname } : {}),
    expiresAt: r.now + leaseSeconds * 1000, cltt: r.now,
  };
  return {
    kind: 'reply', reply: buildReply(r, MessageType.ACK, ip, leaseSeconds), to: destinationOf(r, false), commit,
    scope: r.plan.scope.name, by: r.by,
  };
}

function nak(r: Request, why: string): Decision {
  const reply = baseReply(r, MessageType.NAK, 0);
  reply.ciaddr = 0;
  reply.options.set(OPT_MESSAGE, Buffer.from(why, 'ascii'));
  copyRelayAgentInfo(r, reply);
  // A NAK goes to a relay with the broadcast bit set, else to the limited broadcast (RFC 2131 §4.1).
  if (r.msg.giaddr !== 0) reply.flags |= BROADCAST_FLAG;
  return { kind: 'reply', reply, to: destinationOf(r, true), scope: r.plan.scope.name, by: r.by };
}

function decline(r: Request): Decision {
  const ip = getRequestedIp(r.msg);
  if (ip === undefined) return { kind: 'drop', reason: 'missing_requested_ip', scope: r.plan.scope.name };
  if (getServerId(r.msg) !== undefined && getServerId(r.msg) !== r.ctx.serverId) return { kind: 'drop', reason: 'other_server', scope: r.plan.scope.name };
  const lease = r.ctx.leases.get(ip);
  if (!lease || clientKeyOf(lease) !== r.clientKey || !inSubnet(r.plan, ip)) return { kind: 'drop', reason: 'not_our_lease', scope: r.plan.scope.name };
  // The client found the address in use: set it aside, owned by nobody, until the hold runs out.
  const abandoned: Lease = { ip, scope: lease.scope, state: 'abandoned', expiresAt: r.now + r.ctx.declineHoldSeconds * 1000, cltt: r.now };
  return { kind: 'commit', commit: abandoned, scope: r.plan.scope.name };
}

function release(r: Request): Decision {
  const ip = r.msg.ciaddr;
  if (getServerId(r.msg) !== undefined && getServerId(r.msg) !== r.ctx.serverId) return { kind: 'drop', reason: 'other_server', scope: r.plan.scope.name };
  const lease = r.ctx.leases.get(ip);
  if (!lease || lease.state !== 'active' || clientKeyOf(lease) !== r.clientKey) return { kind: 'drop', reason: 'not_our_lease', scope: r.plan.scope.name };
  // Keep the client's identity on the record so it gets the same address back if it returns.
  return { kind: 'commit', commit: { ...lease, state: 'released', expiresAt: r.now, cltt: r.now }, scope: r.plan.scope.name };
}

function inform(r: Request): Decision {
  const reply = baseReply(r, MessageType.ACK, 0);
  reply.ciaddr = r.msg.ciaddr;
  addConfiguredOptions(r, reply, false);
  copyRelayAgentInfo(r, reply);
  return { kind: 'reply', reply, to: destinationOf(r, false), scope: r.plan.scope.name, by: r.by };
}

function leaseSecondsFor(r: Request, ip: Ipv4): number {
  const configured = r.plan.scope.leaseSeconds;
  const asked = getLeaseTime(r.msg);
  const desired = asked === undefined || asked >= configured ? configured : Math.max(Math.min(MIN_LEASE_SECONDS, configured), asked);
  return r.ctx.policy.leaseSeconds ? r.ctx.policy.leaseSeconds(ip, desired, r.ctx.leases.get(ip), r.now) : desired;
}

function baseReply(r: Request, type: MessageType, yiaddr: Ipv4): DhcpMessage {
  const options = new Map<number, Buffer>();
  options.set(OPT_MESSAGE_TYPE, Buffer.of(type));
  options.set(OPT_SERVER_ID, ipBytes(r.ctx.serverId));
  return {
    op: BOOTREPLY, htype: r.msg.htype, hlen: r.msg.hlen, hops: 0, xid: r.msg.xid, secs: 0, flags: r.msg.flags,
    ciaddr: 0, yiaddr, siaddr: 0, giaddr: r.msg.giaddr, chaddr: r.msg.chaddr,
    sname: Buffer.alloc(64), file: Buffer.alloc(128), options,
  };
}

function buildReply(r: Request, type: MessageType, ip: Ipv4, leaseSeconds: number): DhcpMessage {
  const reply = baseReply(r, type, ip);
  reply.ciaddr = type === MessageType.ACK ? r.msg.ciaddr : 0;
  reply.options.set(OPT_LEASE_TIME, u32Bytes(leaseSeconds));
  reply.options.set(OPT_T1, u32Bytes(Math.floor(leaseSeconds * 0.5)));
  reply.options.set(OPT_T2, u32Bytes(Math.floor(leaseSeconds * 0.875)));
  addConfiguredOptions(r, reply, true);
  copyRelayAgentInfo(r, reply);
  return reply;
}

/**
 * Scope options overlaid by the client's reservation. With a parameter request list, requested
 * options go first in the client's order (RFC 2132 §9.8); without one, everything configured.
 */
function addConfiguredOptions(r: Request, reply: DhcpMessage, withLease: boolean): void {
  const reservation = r.reservation;
  const lookup = (code: number): Buffer | undefined => reservation?.options.get(code) ?? r.plan.scope.options.get(code);
  const subnetMask = lookup(OPT_SUBNET_MASK);
  if (subnetMask) reply.options.set(OPT_SUBNET_MASK, subnetMask);
  const prl = getParameterRequestList(r.msg);
  if (prl) {
    for (const code of prl) {
      if (ALWAYS_SENT.has(code) || code === OPT_RELAY_AGENT) continue;
      if (code === OPT_HOST_NAME && reservation?.hostname !== undefined) { reply.options.set(code, Buffer.from(reservation.hostname)); continue; }
      const value = lookup(code);
      if (value) reply.options.set(code, value);
    }
  } else {
    for (const [code, value] of r.plan.scope.options) if (!reply.options.has(code)) reply.options.set(code, value);
    if (reservation) for (const [code, value] of reservation.options) reply.options.set(code, value);
  }
  if (!withLease) for (const code of [OPT_LEASE_TIME, OPT_T1, OPT_T2]) reply.options.delete(code);
}

/** RFC 3046 §2.2: a reply to a relay carries the relay agent information back, last. */
function copyRelayAgentInfo(r: Request, reply: DhcpMessage): void {
  const info = r.msg.options.get(OPT_RELAY_AGENT);
  if (r.msg.giaddr !== 0 && info) reply.options.set(OPT_RELAY_AGENT, info);
}

/** RFC 2131 §4.1: relay, then client address, then broadcast (we cannot unicast without ARP). */
function destinationOf(r: Request, isNak: boolean): Destination {
  if (r.msg.giaddr !== 0) return { address: r.msg.giaddr, port: 67 };
  if (!isNak && r.msg.ciaddr !== 0) return { address: r.msg.ciaddr, port: 68 };
  // The subnet's broadcast address makes the kernel pick the interface that has that subnet.
  return { address: r.by === 'interface' ? broadcastOf(r.plan.scope.subnet) : 0xffffffff, port: 68 };
}

function ipBytes(ip: Ipv4): Buffer { const b = Buffer.allocUnsafe(4); b.writeUInt32BE(ip >>> 0); return b; }
function u32Bytes(n: number): Buffer { const b = Buffer.allocUnsafe(4); b.writeUInt32BE(n >>> 0); return b; }
