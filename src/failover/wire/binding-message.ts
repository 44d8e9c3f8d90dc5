// Between our lease records and the wire's binding transactions (BNDUPD, digest §2.1), in the
// partner's dialect: binding-status and IP-flags mean different things to ISC (= draft-12) and to
// Microsoft (dialect.ts), and Microsoft wants the client's subnet mask in every transaction. Pure.
import type { BindingState, Lease } from '../../leases/lease.ts';
import type { Ipv4 } from '../../net/ipv4.ts';
import {
  hostNameBytes, hostNameFromMsClientName, hostNameFromRequestOptions, requestOptionsWithHostName,
  type HostNameProblem, type HostNameReading,
} from './host-name.ts';
import { bindingStateOf, bindingStateToWire, ISC_IP_FLAGS, type WireDialect } from './dialect.ts';
import type { Binding } from './message.ts';

const seconds = (ms: number): number => Math.max(0, Math.floor(ms / 1000));
const millis = (s: number | undefined): number | undefined => (s === undefined ? undefined : s * 1000);

/** States that carry a client (chaddr / client-id) on the wire; ISC rejects ABANDONED with one (digest §10.1 item 8). */
const WITH_CLIENT: ReadonlySet<BindingState> = new Set(['active', 'expired', 'released', 'reset']);
/**
 * Microsoft's binding-status 2 is BACKUP without a client and DECLINED with one (dialect.ts), so an
 * ABANDONED address always goes with a client there: its own, else an all-zero chaddr (unverified
 * against Windows, like the rest of the MS dialect).
 */
const NO_CLIENT_CHADDR = { htype: 1, address: Buffer.alloc(6) };

const ENDED: ReadonlySet<Lease['state']> = new Set(['expired', 'released', 'reset']);
/** Draft Table 7.1-1: client-request-options SHOULD go with ACTIVE and RELEASED, SHOULD NOT with the rest. */
const HOST_NAME_STATES: ReadonlySet<Lease['state']> = new Set(['active', 'released']);

/** One binding transaction for `lease`, as this server reports it to the partner. */
export function bindingOf(lease: Lease, ctx: { now: number; dialect: WireDialect; subnetMask?: Ipv4 | undefined }): Binding {
  const wire = bindingStateToWire(lease.state, ctx.dialect);
  const msDeclined = ctx.dialect === 'ms' && lease.state === 'abandoned';
  const withClient = WITH_CLIENT.has(lease.state) || msDeclined;
  const hardware = withClient && lease.hw !== undefined ? hardwareOf(lease.hw)
    : msDeclined && lease.clientId === undefined ? NO_CLIENT_CHADDR : undefined;
  const active = lease.state === 'active';
  return {
    assignedIpAddress: lease.ip,
    bindingStatus: wire.bindingStatus,
    // ISC: IP-flags only when non-zero (digest §10.1 item 3); Microsoft: always.
    ...(ctx.dialect === 'ms' || wire.ipFlags !== 0 ? { ipFlags: wire.ipFlags } : {}),
    ...(withClient && lease.clientId !== undefined ? { clientIdentifier: Buffer.from(lease.clientId, 'hex') } : {}),
    ...(hardware !== undefined ? { clientHardwareAddress: hardware } : {}),
    ...(active ? { leaseExpirationTime: seconds(lease.expiresAt), potentialExpirationTime: seconds(Math.max(lease.tstp ?? lease.expiresAt, lease.expiresAt)) } : {}),
    // ISC keeps a received PET as the lease's tsfp whatever the state, and credits it to the next client; as ISC
    // does itself (tstp = ends on expiry/release, sent with every update), an ended binding carries its end as PET,
    // so the old client's PET is not credited to a new one there.
    ...(!active && ctx.dialect === 'isc' && ENDED.has(lease.state) ? { potentialExpirationTime: seconds(Math.min(lease.expiresAt, ctx.now)) } : {}),
    startTimeOfState: seconds(lease.cltt || ctx.now),
    ...(lease.cltt > 0 ? { clientLastTransactionTime: seconds(lease.cltt) } : {}),
    ...(ctx.dialect === 'ms' ? { msClientSubnetMask: ctx.subnetMask ?? (0xffffffff as Ipv4) } : {}),
    ...hostNameFields(lease, ctx.dialect, withClient),
  };
}

/**
 * The client's host name (host-name.ts): ISC/draft inside client-request-options for ACTIVE and RELEASED,
 * Microsoft as Client Name (31) wherever a client goes (MS-DHCPF: SHOULD, never with FREE/BACKUP). A
 * stored name a receiver would refuse (too long, control characters) is not sent.
 */
function hostNameFields(lease: Lease, dialect: WireDialect, withClient: boolean): Partial<Binding> {
  if (lease.hostname === undefined) return {};
  if (dialect === 'ms') return withClient && hostNameBytes(lease.hostname) !== undefined ? { msClientName: lease.hostname } : {};
  const options = HOST_NAME_STATES.has(lease.state) ? requestOptionsWithHostName(lease.hostname) : undefined;
  return options !== undefined ? { clientRequestOptions: options } : {};
}

function hardwareOf(hw: string): { htype: number; address: Buffer } {
  const [htype, hex] = hw.split(':');
  return { htype: Number(htype) & 0xff, address: Buffer.from(hex ?? '', 'hex') };
}

/** What a received binding transaction proposes, in our terms (times in ms). */
export interface ProposedBinding {
  readonly ip: Ipv4;
  /** undefined: no or an unknown binding-status (rejected with reason 3). */
  readonly state: BindingState | undefined;
  readonly hw?: string;
  readonly clientId?: string;
  readonly expiresAt?: number | undefined;
  readonly pet?: number | undefined;
  readonly cltt?: number | undefined;
  /** ISC IP-flags RESERVED (draft §12.12); Microsoft has no such flag. */
  readonly reservedFlag: boolean;
  /** The client's host name, when the binding carried an acceptable one. */
  readonly hostname?: string;
  /** The binding carried a host name that was refused (and is ignored): why. */
  readonly hostNameProblem?: HostNameProblem;
}

export function proposedOf(b: Binding, dialect: WireDialect): ProposedBinding {
  const hw = b.clientHardwareAddress;
  const clientId = b.clientIdentifier !== undefined && b.clientIdentifier.length > 0 ? b.clientIdentifier.toString('hex') : undefined;
  const name = hostNameOf(b, dialect);
  return {
    ip: b.assignedIpAddress,
    state: bindingStateOf(b, dialect),
    ...(hw !== undefined ? { hw: `${hw.htype}:${hw.address.toString('hex')}` } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    expiresAt: millis(b.leaseExpirationTime), pet: millis(b.potentialExpirationTime), cltt: millis(b.clientLastTransactionTime),
    reservedFlag: dialect === 'isc' && ((b.ipFlags ?? 0) & ISC_IP_FLAGS.RESERVED) !== 0,
    ...(name !== undefined && 'hostname' in name ? { hostname: name.hostname } : {}),
    ...(name !== undefined && 'problem' in name ? { hostNameProblem: name.problem } : {}),
  };
}

/** client-request-options first (any dialect); Microsoft's Client Name when that gave no name. */
function hostNameOf(b: Binding, dialect: WireDialect): HostNameReading {
  const fromOptions = b.clientRequestOptions === undefined ? undefined : hostNameFromRequestOptions(b.clientRequestOptions);
  if ((fromOptions !== undefined && 'hostname' in fromOptions) || dialect !== 'ms' || b.msClientName === undefined) return fromOptions;
  return hostNameFromMsClientName(b.msClientName) ?? fromOptions;
}
