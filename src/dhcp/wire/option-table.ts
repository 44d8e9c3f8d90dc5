// The DHCP option table (RFC 2132 and friends), pure data: each code's name and value type, the
// codes the server refers to by name (`Opt`), ISC dhcpd's aliases, and name ↔ code lookup.
// Names follow ISC dhcpd's spelling where the project brief does not fix another one; ISC's `dhcp-*`
// spellings of the 50..61 options are accepted as aliases.

export type OptionType =
  | 'ip' | 'ips' | 'u8' | 'u16' | 'u32' | 'i32' | 'string' | 'bool' | 'bytes' | 'u8s' | 'u16s' | 'ip-pairs'
  | 'domain-list' | 'classless-routes' | 'fqdn' | 'relay-agent' | 'client-id';

export interface OptionSpec { readonly name: string; readonly type: OptionType }

/** Option codes the server code refers to by name. */
export const Opt = {
  PAD: 0, SUBNET_MASK: 1, TIME_OFFSET: 2, ROUTERS: 3, DOMAIN_NAME_SERVERS: 6, HOST_NAME: 12, DOMAIN_NAME: 15,
  INTERFACE_MTU: 26, BROADCAST_ADDRESS: 28, STATIC_ROUTES: 33, NTP_SERVERS: 42, VENDOR_ENCAPSULATED: 43,
  REQUESTED_IP: 50, LEASE_TIME: 51, OVERLOAD: 52, MESSAGE_TYPE: 53, SERVER_ID: 54, PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56, MAX_MESSAGE_SIZE: 57, RENEWAL_TIME: 58, REBINDING_TIME: 59, VENDOR_CLASS_ID: 60, CLIENT_ID: 61,
  TFTP_SERVER_NAME: 66, BOOTFILE_NAME: 67, RAPID_COMMIT: 80, FQDN: 81, RELAY_AGENT_INFO: 82,
  SUBNET_SELECTION: 118, DOMAIN_SEARCH: 119, CLASSLESS_STATIC_ROUTES: 121, END: 255,
} as const;

export const OPTION_SPECS: Readonly<Record<number, OptionSpec>> = {
  1: { name: 'subnet-mask', type: 'ip' },
  2: { name: 'time-offset', type: 'i32' },
  3: { name: 'routers', type: 'ips' },
  4: { name: 'time-servers', type: 'ips' },
  5: { name: 'ien116-name-servers', type: 'ips' },
  6: { name: 'domain-name-servers', type: 'ips' },
  7: { name: 'log-servers', type: 'ips' },
  8: { name: 'cookie-servers', type: 'ips' },
  9: { name: 'lpr-servers', type: 'ips' },
  10: { name: 'impress-servers', type: 'ips' },
  11: { name: 'resource-location-servers', type: 'ips' },
  12: { name: 'host-name', type: 'string' },
  13: { name: 'boot-size', type: 'u16' },
  14: { name: 'merit-dump', type: 'string' },
  15: { name: 'domain-name', type: 'string' },
  16: { name: 'swap-server', type: 'ip' },
  17: { name: 'root-path', type: 'string' },
  18: { name: 'extensions-path', type: 'string' },
  19: { name: 'ip-forwarding', type: 'bool' },
  20: { name: 'non-local-source-routing', type: 'bool' },
  21: { name: 'policy-filter', type: 'ip-pairs' },
  22: { name: 'max-dgram-reassembly', type: 'u16' },
  23: { name: 'default-ip-ttl', type: 'u8' },
  24: { name: 'path-mtu-aging-timeout', type: 'u32' },
  25: { name: 'path-mtu-plateau-table', type: 'u16s' },
  26: { name: 'interface-mtu', type: 'u16' },
  27: { name: 'all-subnets-local', type: 'bool' },
  28: { name: 'broadcast-address', type: 'ip' },
  29: { name: 'perform-mask-discovery', type: 'bool' },
  30: { name: 'mask-supplier', type: 'bool' },
  31: { name: 'router-discovery', type: 'bool' },
  32: { name: 'router-solicitation-address', type: 'ip' },
  33: { name: 'static-routes', type: 'ip-pairs' },
  34: { name: 'trailer-encapsulation', type: 'bool' },
  35: { name: 'arp-cache-timeout', type: 'u32' },
  36: { name: 'ieee802-3-encapsulation', type: 'bool' },
  37: { name: 'default-tcp-ttl', type: 'u8' },
  38: { name: 'tcp-keepalive-interval', type: 'u32' },
  39: { name: 'tcp-keepalive-garbage', type: 'bool' },
  40: { name: 'nis-domain', type: 'string' },
  41: { name: 'nis-servers', type: 'ips' },
  42: { name: 'ntp-servers', type: 'ips' },
  43: { name: 'vendor-encapsulated-options', type: 'bytes' },
  44: { name: 'netbios-name-servers', type: 'ips' },
  45: { name: 'netbios-dd-server', type: 'ips' },
  46: { name: 'netbios-node-type', type: 'u8' },
  47: { name: 'netbios-scope', type: 'string' },
  48: { name: 'font-servers', type: 'ips' },
  49: { name: 'x-display-manager', type: 'ips' },
  50: { name: 'requested-ip-address', type: 'ip' },
  51: { name: 'ip-address-lease-time', type: 'u32' },
  52: { name: 'option-overload', type: 'u8' },
  53: { name: 'dhcp-message-type', type: 'u8' },
  54: { name: 'server-identifier', type: 'ip' },
  55: { name: 'parameter-request-list', type: 'u8s' },
  56: { name: 'message', type: 'string' },
  57: { name: 'max-message-size', type: 'u16' },
  58: { name: 'renewal-time', type: 'u32' },
  59: { name: 'rebinding-time', type: 'u32' },
  60: { name: 'vendor-class-identifier', type: 'string' },
  61: { name: 'client-identifier', type: 'client-id' },
  64: { name: 'nisplus-domain', type: 'string' },
  65: { name: 'nisplus-servers', type: 'ips' },
  66: { name: 'tftp-server-name', type: 'string' },
  67: { name: 'bootfile-name', type: 'string' },
  68: { name: 'mobile-ip-home-agent', type: 'ips' },
  69: { name: 'smtp-server', type: 'ips' },
  70: { name: 'pop-server', type: 'ips' },
  71: { name: 'nntp-server', type: 'ips' },
  72: { name: 'www-server', type: 'ips' },
  73: { name: 'finger-server', type: 'ips' },
  74: { name: 'irc-server', type: 'ips' },
  75: { name: 'streettalk-server', type: 'ips' },
  76: { name: 'streettalk-directory-assistance-server', type: 'ips' },
  77: { name: 'user-class', type: 'bytes' },
  80: { name: 'rapid-commit', type: 'bytes' },
  81: { name: 'fqdn', type: 'fqdn' },
  82: { name: 'relay-agent-information', type: 'relay-agent' },
  85: { name: 'nds-servers', type: 'ips' },
  86: { name: 'nds-tree-name', type: 'string' },
  87: { name: 'nds-context', type: 'string' },
  91: { name: 'client-last-transaction-time', type: 'u32' },
  92: { name: 'associated-ip', type: 'ips' },
  93: { name: 'pxe-system-type', type: 'u16s' },
  94: { name: 'pxe-interface-id', type: 'bytes' },
  97: { name: 'pxe-client-id', type: 'bytes' },
  100: { name: 'pcode', type: 'string' },
  101: { name: 'tcode', type: 'string' },
  108: { name: 'v6-only-preferred', type: 'u32' },
  114: { name: 'captive-portal', type: 'string' },
  116: { name: 'auto-config', type: 'u8' },
  118: { name: 'subnet-selection', type: 'ip' },
  119: { name: 'domain-search', type: 'domain-list' },
  121: { name: 'classless-static-routes', type: 'classless-routes' },
  124: { name: 'vivco', type: 'bytes' },
  125: { name: 'vivso', type: 'bytes' },
  150: { name: 'tftp-server-address', type: 'ips' },
  249: { name: 'ms-classless-static-routes', type: 'classless-routes' },
  252: { name: 'wpad-url', type: 'string' },
};

const ALIASES: Readonly<Record<string, number>> = {
  'dhcp-requested-address': 50, 'dhcp-lease-time': 51, 'dhcp-option-overload': 52, 'dhcp-server-identifier': 54,
  'dhcp-parameter-request-list': 55, 'dhcp-message': 56, 'dhcp-max-message-size': 57, 'dhcp-renewal-time': 58,
  'dhcp-rebinding-time': 59, 'dhcp-client-identifier': 61, 'agent-information': 82, 'domain-search-list': 119,
};

const CODE_BY_NAME: ReadonlyMap<string, number> = new Map([
  ...Object.entries(OPTION_SPECS).map(([code, spec]) => [spec.name, Number(code)] as const),
  ...Object.entries(ALIASES),
]);

/** Option code for a table name, an alias, or `option-<n>` (n in 1..254). */
export function optionCodeByName(name: string): number | undefined {
  const code = CODE_BY_NAME.get(name);
  if (code !== undefined) return code;
  const m = /^option-(\d{1,3})$/.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 && n <= 254 ? n : undefined;
}

/** The table name of a code, or `option-<n>` for codes not in the table. */
export function optionName(code: number): string {
  return OPTION_SPECS[code]?.name ?? `option-${code}`;
}
