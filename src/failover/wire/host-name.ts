// The client's host name (DHCP option 12) in binding updates. Draft-12 has no failover option of its
// own for it: a BNDUPD carries it inside client-request-options (failover option 8, D12 §12.8: the DHCP
// magic cookie, then DHCP-format options; host-name is the first "interesting" option of D12 Table
// 7.1.1-2). Microsoft has Client Name (option 31, UTF-16LE, digest §9.2). ISC dhcpd 4.4.3 neither sends
// nor reads either (server/failover.c: "XXX request options" is skipped when sending, and
// process_bind_update never looks at request_options), so with an ISC partner host names stay local.
// Pure: a name read from a partner is checked here and either returned or refused with a reason.

/** The longest host name sent or accepted, in UTF-8 bytes (one DHCP option's worth). */
export const MAX_HOST_NAME_BYTES = 255;
const MAGIC_COOKIE = 0x63825363;
const DHCP_PAD = 0, DHCP_END = 255, DHCP_HOST_NAME = 12;

export type HostNameProblem = 'bad_cookie' | 'truncated' | 'too_long' | 'bad_utf8' | 'control_character';

/** What a received binding says about the host name: a name, nothing, or a refused value and why. */
export type HostNameReading = { readonly hostname: string } | { readonly problem: HostNameProblem } | undefined;

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** C0 controls (NUL included), DEL and C1 controls: never part of a name; would corrupt logs and lease files. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const LONE_SURROGATE = /\p{Cs}/u;

/** Checks host name bytes as a partner sent them (trailing NULs, as some clients send, are dropped). */
export function readHostName(bytes: Buffer): HostNameReading {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0) return undefined;
  if (end > MAX_HOST_NAME_BYTES) return { problem: 'too_long' };
  let text: string;
  try { text = utf8.decode(bytes.subarray(0, end)); } catch { return { problem: 'bad_utf8' }; }
  return CONTROL.test(text) ? { problem: 'control_character' } : { hostname: text };
}

/** The UTF-8 bytes of a stored host name if it may be sent (the checks a receiver applies), else undefined. */
export function hostNameBytes(name: string): Buffer | undefined {
  if (LONE_SURROGATE.test(name)) return undefined;
  const bytes = Buffer.from(name, 'utf8');
  const back = readHostName(bytes);
  return back !== undefined && 'hostname' in back && back.hostname === name ? bytes : undefined;
}

/** client-request-options (option 8) holding just the host name, or undefined when it may not be sent. */
export function requestOptionsWithHostName(name: string): Buffer | undefined {
  const bytes = hostNameBytes(name);
  if (bytes === undefined) return undefined;
  const out = Buffer.alloc(4 + 2 + bytes.length);
  out.writeUInt32BE(MAGIC_COOKIE, 0);
  out[4] = DHCP_HOST_NAME;
  out[5] = bytes.length;
  bytes.copy(out, 6);
  return out;
}

/**
 * The host name inside client-request-options. Other DHCP options are skipped; a split option 12 is
 * concatenated (RFC 3396). A wrong cookie or an option running past the end refuses the whole value.
 */
export function hostNameFromRequestOptions(value: Buffer): HostNameReading {
  if (value.length < 4 || value.readUInt32BE(0) !== MAGIC_COOKIE) return { problem: 'bad_cookie' };
  const parts: Buffer[] = [];
  for (let at = 4; at < value.length;) {
    const code = value[at]!;
    if (code === DHCP_END) break;
    if (code === DHCP_PAD) { at++; continue; }
    if (at + 2 > value.length) return { problem: 'truncated' };
    const len = value[at + 1]!;
    if (at + 2 + len > value.length) return { problem: 'truncated' };
    if (code === DHCP_HOST_NAME) parts.push(value.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return parts.length === 0 ? undefined : readHostName(Buffer.concat(parts));
}

/** Microsoft's Client Name (option 31), already decoded from UTF-16LE with the NUL removed. */
export function hostNameFromMsClientName(name: string): HostNameReading {
  if (name === '') return undefined;
  if (LONE_SURROGATE.test(name)) return { problem: 'bad_utf8' };
  return readHostName(Buffer.from(name, 'utf8'));
}
