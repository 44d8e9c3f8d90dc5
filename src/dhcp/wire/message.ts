// The decoded form of a BOOTP/DHCP message (RFC 2131 §2). packet.ts turns bytes into this and back.
import type { Ipv4 } from '../../net/ipv4.ts';

export const MessageType = {
  DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];
export const MESSAGE_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(MessageType).map(([name, code]) => [code, name.toLowerCase()]),
);

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const BROADCAST_FLAG = 0x8000;

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: Ipv4;
  yiaddr: Ipv4;
  siaddr: Ipv4;
  giaddr: Ipv4;
  /** The 16-byte chaddr field as on the wire; the hardware address is its first `hlen` bytes. */
  chaddr: Buffer;
  /** 64-byte sname and 128-byte file fields; when option 52 overloads them, their options are moved into `options`. */
  sname: Buffer;
  file: Buffer;
  /**
   * Raw option payloads by code, in order of first appearance. Repeated codes are concatenated
   * (RFC 3396). Pad (0) and End (255) are never stored. Typed views: `decodeOption`
   * (option-codecs.ts) and the hot-path accessors (message-options.ts).
   */
  options: Map<number, Buffer>;
}
