// The admin endpoint: probes, Prometheus metrics, JSON status and lease lookup, failover admin actions.
// Who may call what (docs/config.md `admin.tokenFile`):
//   /healthz /readyz /metrics   anyone (kubelet probes and Prometheus reach the pod on its pod IP)
//   GET /status /leases          loopback always; others with the bearer token; anyone when no token is set
//   POST /failover/<action>      the bearer token when one is set (from loopback too); else loopback only
import { createHash, timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { Server } from 'node:http';
import { systemClock, type Clock } from '../clock.ts';
import type { DhcpEngine } from '../dhcp/engine.ts';
import { BindError } from '../errors.ts';
import type { Lease } from '../leases/lease.ts';
import { log } from '../log.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import { formatIpv4, isIpv4, parseIpv4 } from '../net/ipv4.ts';

export const ADMIN_ACTIONS = ['partner-down', 'resync'] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

export interface AdminDeps {
  readonly engine: DhcpEngine;
  readonly metrics: ServerMetrics;
  /** Ready = socket bound, leases loaded, store reachable. */
  readonly ready: () => boolean;
  readonly status: () => Record<string, unknown>;
  /**
   * Runs a failover admin action on one relationship (`?relationship=`, optional when the server is in one)
   * and returns its status after the action, or an error naming the relationships. Absent on a standalone server.
   */
  readonly actions?: (action: AdminAction, relationship: string | undefined) => Promise<{ status: unknown } | { error: string }>;
  /**
   * The bearer token (server.admin.tokenFile), read on every request that needs it so a rotated Secret
   * applies at once. undefined = no token configured; throws when one is configured but cannot be read.
   */
  readonly adminToken?: () => string | undefined;
  /** For the refusal log's rate limit; default the system clock. */
  readonly clock?: Clock;
}

/** The configured token as a request sees it: none, its value, or configured but unreadable or empty. */
export type TokenState = { readonly kind: 'none' } | { readonly kind: 'set'; readonly value: string } | { readonly kind: 'unavailable' };

/** What a guard needs from a request (a fake in tests). */
export interface Caller { readonly remoteAddress: string | undefined; readonly authorization: string | undefined }

/** The `reason` label of dhcp_admin_requests_refused_total. */
export const REFUSAL_REASONS = ['missing_token', 'wrong_token', 'token_unavailable', 'not_loopback'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export type AccessDecision = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403 | 503; readonly reason: RefusalReason; readonly error: string };

/** Repeated refusals of one path are logged at most this often (each is counted). */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750 §2.1). */
function bearerOf(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer[ \t]+(.*?)[ \t]*$/i.exec(header);
  return m?.[1] ? m[1] : undefined;
}

/** Constant time in the token's content and length: both sides are hashed to equal-length digests first. */
export function tokenMatches(given: string, wanted: string): boolean {
  const digest = (t: string) => createHash('sha256').update(t, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(wanted));
}

function checkToken(caller: Caller, token: { value: string }): AccessDecision {
  const given = bearerOf(caller.authorization);
  if (given === undefined) return { ok: false, status: 401, reason: 'missing_token', error: 'missing bearer token (Authorization: Bearer <server.admin.tokenFile>)' };
  if (!tokenMatches(given, token.value)) return { ok: false, status: 401, reason: 'wrong_token', error: 'wrong bearer token' };
  return { ok: true };
}

const UNAVAILABLE: AccessDecision = { ok: false, status: 503, reason: 'token_unavailable', error: 'server.admin.tokenFile cannot be read or is empty; refusing what needs the token' };

/** GET /status and /leases (pure): loopback always; others need the token, unless none is configured (a lab server). */
export function decideRead(caller: Caller, token: TokenState): AccessDecision {
  if (isLoopback(caller.remoteAddress) || token.kind === 'none') return { ok: true };
  return token.kind === 'unavailable' ? UNAVAILABLE : checkToken(caller, token);
}

/** POST /failover/<action> (pure): the token when one is configured, from loopback too; without one, loopback only. */
export function decideAction(caller: Caller, token: TokenState): AccessDecision {
  if (token.kind === 'set') return checkToken(caller, token);
  if (token.kind === 'unavailable') return UNAVAILABLE;
  return isLoopback(caller.remoteAddress) ? { ok: true }
    : { ok: false, status: 403, reason: 'not_loopback', error: 'admin actions are accepted from loopback only (set server.admin.tokenFile to allow remote callers)' };
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
  const clock = deps.clock ?? systemClock;
  app.disable('x-powered-by');

  /** Read per request; an unreadable or empty token file refuses what needs the token (never accepts anyone). */
  const readToken = (): { state: TokenState; err?: unknown } => {
    try {
      const value = deps.adminToken?.();
      return { state: value === undefined ? { kind: 'none' } : value === '' ? { kind: 'unavailable' } : { kind: 'set', value } };
    } catch (err) {
      return { state: { kind: 'unavailable' }, err };
    }
  };
  // Refusals are each counted, and logged once per path per REFUSAL_LOG_INTERVAL_MS: a scanner must not flood the log.
  const lastLogged = new Map<string, { at: number; suppressed: number }>();
  const logRefusal = (path: string, reason: RefusalReason, remoteAddress: string | undefined, err: unknown): void => {
    const now = clock.now();
    const last = lastLogged.get(path);
    if (last !== undefined && now - last.at < REFUSAL_LOG_INTERVAL_MS) { last.suppressed++; return; }
    lastLogged.set(path, { at: now, suppressed: 0 });
    log.warn('admin.request.refused', { path, reason, remoteAddress, ...(last?.suppressed ? { refusedSinceLastLog: last.suppressed } : {}), ...(err !== undefined ? { err } : {}) });
  };
  /** `pathOf` names the route, not the request's own path: the metric label stays bounded. */
  const guard = (pathOf: (req: express.Request) => string, decide: (caller: Caller, token: TokenState) => AccessDecision): express.RequestHandler => (req, res, next) => {
    const caller: Caller = { remoteAddress: req.socket.remoteAddress, authorization: req.headers.authorization };
    const token = readToken();
    const decision = decide(caller, token.state);
    if (decision.ok) { next(); return; }
    const path = pathOf(req);
    deps.metrics.adminRefused.inc({ path, reason: decision.reason });
    logRefusal(path, decision.reason, caller.remoteAddress, token.err);
    if (decision.status === 401) res.set('WWW-Authenticate', decision.reason === 'wrong_token' ? 'Bearer realm="dhcp-failover", error="invalid_token"' : 'Bearer realm="dhcp-failover"');
    res.status(decision.status).json({ error: decision.error });
  };

  app.get('/healthz', (_req, res) => { res.type('text').send('ok\n'); });
  app.get('/readyz', (_req, res) => {
    if (deps.ready()) res.type('text').send('ready\n'); else res.status(503).type('text').send('not ready\n');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  // Lease data (MACs, host names, addresses): loopback, or the token when one is configured.
  app.get('/status', guard(() => '/status', decideRead), (_req, res) => { res.json(deps.status()); });
  // Changing the relationship's state is an operator's decision: the token, or loopback when no token is set.
  app.post('/failover/:action', (req, res, next) => {
    if (!deps.actions) { res.status(404).json({ error: 'this server has no failover relationship' }); return; }
    if (!ADMIN_ACTIONS.includes(String(req.params.action) as AdminAction)) { res.status(404).json({ error: `unknown action ${JSON.stringify(req.params.action)} (partner-down, resync)` }); return; }
    next();
  }, guard((req) => `/failover/${String(req.params.action)}`, decideAction), async (req, res) => {
    const action = req.params.action as AdminAction;
    const relationship = typeof req.query.relationship === 'string' ? req.query.relationship : undefined;
    try {
      const result = await deps.actions!(action, relationship);
      if ('error' in result) { res.status(400).json({ error: result.error }); return; }
      res.json({ action, done: true, ...(relationship !== undefined && { relationship }), status: result.status });
    } catch (err) {
      res.status(500).json({ error: `${action} failed: ${(err as Error).message}` });
    }
  });
  app.get('/leases', guard(() => '/leases', decideRead), (req, res) => {
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
