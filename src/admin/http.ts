// The admin endpoint: probes, Prometheus metrics, JSON status and lease lookup.
import { timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { Server } from 'node:http';
import type { DhcpEngine } from '../dhcp/engine.ts';
import { BindError } from '../errors.ts';
import type { Lease } from '../leases/lease.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import { formatIpv4, isIpv4, parseIpv4 } from '../net/ipv4.ts';

export type AdminAction = 'partner-down' | 'resync';

export interface AdminDeps {
  readonly engine: DhcpEngine;
  readonly metrics: ServerMetrics;
  /** Ready = socket bound, leases loaded, store reachable. */
  readonly ready: () => boolean;
  readonly status: () => Record<string, unknown>;
  /** Failover admin actions; absent on a standalone server. */
  readonly actions?: Readonly<Record<AdminAction, () => Promise<void>>>;
  /** The bearer token the actions require; undefined = actions accepted from loopback only. */
  readonly actionToken?: () => string | undefined;
}

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7).trim() : '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
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
  // Changing the relationship's state is an operator's decision: token, or loopback when no token is set.
  app.post('/failover/:action', async (req, res) => {
    const action = req.params.action as AdminAction;
    const run = deps.actions?.[action];
    if (!deps.actions) { res.status(404).json({ error: 'this server has no failover relationship' }); return; }
    if (!run) { res.status(404).json({ error: `unknown action ${JSON.stringify(req.params.action)} (partner-down, resync)` }); return; }
    const token = deps.actionToken?.();
    if (token !== undefined ? !tokenMatches(req.headers.authorization, token) : !isLoopback(req.socket.remoteAddress)) {
      res.status(403).json({ error: token !== undefined ? 'missing or wrong bearer token' : 'admin actions are accepted from loopback only (set server.admin.tokenFile to allow remote callers)' });
      return;
    }
    try {
      await run();
      res.json({ action, done: true, status: deps.status().failover });
    } catch (err) {
      res.status(500).json({ error: `${action} failed: ${(err as Error).message}` });
    }
  });
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

/** Listens on address:port; a port that is taken or not permitted rejects with a BindError. */
export function listen(app: express.Express, address: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Express 5 hands a listen error to this callback (it listens for 'error' once until then).
    const server = app.listen(port, address, (err?: Error) => {
      if (err === undefined) { resolve(server); return; }
      reject(new BindError({ what: 'admin HTTP', address, port, setting: 'server.admin.port' }, err));
    });
  });
}
