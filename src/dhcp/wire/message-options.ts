// Hot-path accessors: read one option straight from a DhcpMessage's raw payload. A payload of the
// wrong length counts as absent (undefined); they never throw.
import type { Ipv4 } from '../../net/ipv4.ts';
import type { DhcpMessage } from './message.ts';
import { parseRelayAgent, type RelayAgentInfo } from './option-codecs.ts';
import { Opt } from './option-table.ts';

function optIp(m: DhcpMessage, code: number): Ipv4 | undefined {
  const b = m.options.get(code);
  return b !== undefined && b.length === 4 ? b.readUInt32BE(0) : undefined;
}

function optU32(m: DhcpMessage, code: number): number | undefined {
  const b = m.options.get(code);
  return b !== undefined && b.length === 4 ? b.readUInt32BE(0) : undefined;
}

export function getMessageType(m: DhcpMessage): number | undefined {
  const b = m.options.get(Opt.MESSAGE_TYPE);
  return b !== undefined && b.length === 1 ? b[0] : undefined;
}

export function getRequestedIp(m: DhcpMessage): Ipv4 | undefined { return optIp(m, Opt.REQUESTED_IP); }
export function getServerId(m: DhcpMessage): Ipv4 | undefined { return optIp(m, Opt.SERVER_ID); }
export function getSubnetSelection(m: DhcpMessage): Ipv4 | undefined { return optIp(m, Opt.SUBNET_SELECTION); }
export function getLeaseTime(m: DhcpMessage): number | undefined { return optU32(m, Opt.LEASE_TIME); }

/** Lowercase hex of the whole option 61 payload (type byte included). */
export function getClientId(m: DhcpMessage): string | undefined {
  const b = m.options.get(Opt.CLIENT_ID);
  return b !== undefined && b.length > 0 ? b.toString('hex') : undefined;
}

export function getParameterRequestList(m: DhcpMessage): number[] | undefined {
  const b = m.options.get(Opt.PARAMETER_REQUEST_LIST);
  return b === undefined ? undefined : Array.from(b);
}

export function getMaxMessageSize(m: DhcpMessage): number | undefined {
  const b = m.options.get(Opt.MAX_MESSAGE_SIZE);
  return b !== undefined && b.length === 2 ? b.readUInt16BE(0) : undefined;
}

/** Option 12 as text, trailing NULs (sent by some clients) removed; empty counts as absent. */
export function getHostname(m: DhcpMessage): string | undefined {
  const b = m.options.get(Opt.HOST_NAME);
  if (b === undefined) return undefined;
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return end === 0 ? undefined : b.toString('utf8', 0, end);
}

/** Option 82 sub-options; a malformed payload counts as absent. */
export function getRelayAgentInfo(m: DhcpMessage): RelayAgentInfo | undefined {
  const b = m.options.get(Opt.RELAY_AGENT_INFO);
  if (b === undefined) return undefined;
  const r = parseRelayAgent(b);
  return typeof r === 'string' ? undefined : r;
}
