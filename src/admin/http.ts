// The admin endpoint: probes, Prometheus metrics, JSON status and lease lookup.
import express from 'express';
import type { Server } from 'node:http';
import type { DhcpEngine } from '../dhcp/engine.ts';
import type { Lease } from '../leases/lease.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import { formatIpv4, isIpv4, parseIpv4 } from '../net/ipv4.ts';

export interface AdminDeps {
  readonly engine: DhcpEngine;
  readonly metrics: ServerMetrics;
  /** Ready = socket bound, leases loaded, store reachable. */
  readonly ready: () => boolean;
  readonly status: () => Record<string, unknown>;
}

export function leaseToJson(lease: Lease): Record<string, unknown> {
  return {
    ip: formatIpv4(lease.ip), scope: lease.scope, state: lease.state,
    ...(lease.hw !== undefined ? { hwAddress: hwToMac(lease.hw) } : {}),
    ...(lease.clientId !== undefined ? { clientId: lease.clientId } : {}),
    ...(lease.hostname !== undefined ? { hostname: lease.hostname } : {}),
    expiresAt: new Date(lease.expiresAt).toISOString(), cltt: new Date(lease.cltt).toISOString(),
  };
}

/** "1:aabbccddeeff" → "aa:bb:cc:dd:ee:ff" (the hardware type is dropped for display). */
function hwToMac(hw: string): string {
  const hex = hw.slice(hw.indexOf(':') + 1);
  return hex.match(/../g)?.join(':') ?? hex;
}

export function createAdminApp(deps: AdminDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => { res.type('text').send('ok\n'); });
  app.get('/readyz', (_req, res) => {
    if (deps.ready()) res.type('text').send('ready\n'); else res.status(503).type('text').send('not ready\n');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.get('/status', (_req, res) => { res.json(deps.status()); });
  app.get('/leases', (req, res) => {
    const ip = typeof req.query.ip === 'string' ? req.query.ip : undefined;
    const mac = typeof req.query.mac === 'string' ? req.query.mac.toLowerCase().replace(/[^0-9a-f]/g, '') : undefined;
    if (ip !== undefined) {
      if (!isIpv4(ip)) { res.status(400).json({ error: `not an IPv4 address: ${ip}` }); return; }
      const lease = deps.engine.leases.get(parseIpv4(ip));
      if (!lease) { res.status(404).json({ error: `no lease for ${ip}` }); return; }
      res.json(leaseToJson(lease));
      return;
    }
    const limit = Math.min(Number(req.query.limit ?? 1000) || 1000, 100_000);
    const out: Record<string, unknown>[] = [];
    for (const lease of deps.engine.leases.values()) {
      if (mac !== undefined && !(lease.hw?.endsWith(`:${mac}`))) continue;
      out.push(leaseToJson(lease));
      if (out.length >= limit) break;
    }
    res.json({ leases: out });
  });
  return app;
}

export function listen(app: express.Express, address: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, address, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.on('error', reject);
  });
}
