// The config `dhcp-failover server` runs without --config: a developer laptop on a real LAN.
// It must never answer a real client: DHCP binds to loopback on an unprivileged port (not 67),
// so only a test relay on this machine reaches it, and the one scope is TEST-NET-1 (RFC 5737),
// an address block no real network uses. It goes through validateConfig like any file.
import type { Config } from './schema.ts';
import { validateConfig } from './validate.ts';

export const EMBEDDED_DEFAULT_RAW = {
  server: {
    name: 'local',
    listen: { address: '127.0.0.1', port: 6767 },
    admin: { address: '127.0.0.1', port: 8067 },
    store: { type: 'memory' },
    logLevel: 'info',
  },
  scopes: [
    {
      // Served to relayed requests whose giaddr (or link-selection) is in 192.0.2.0/24.
      name: 'test-net-1',
      subnet: '192.0.2.0/24',
      ranges: [{ start: '192.0.2.100', end: '192.0.2.199' }],
      leaseSeconds: 600,
      options: { routers: ['192.0.2.1'], 'domain-name-servers': ['192.0.2.53'] },
    },
  ],
} as const;

let cached: Config | undefined;

export function embeddedDefaultConfig(): Config {
  cached ??= validateConfig(structuredClone(EMBEDDED_DEFAULT_RAW), 'embedded default config');
  return cached;
}
