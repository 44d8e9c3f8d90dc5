// Whether the operator can see the cluster. Every list, watch and Lease call reports its outcome here, per
// source (one informer, or the Lease); the API is *reachable* while the latest call of every source
// succeeded. An outage is an *episode*: its first failure is logged once at error, with the API server's
// URL and why (`operator.api.error`), a different reason within it at warn (`operator.api.reason_changed`),
// its end at info with its duration (`operator.api.recovered`); the retries in between are counted
// (`dhcp_operator_api_errors_total`), not logged again here. /readyz follows `reachable`; /healthz does not.
import { STATUS_CODES } from 'node:http';
import type { Clock } from '../clock.ts';
import { log } from '../log.ts';
import type { OperatorMetrics } from './metrics.ts';

export const API_OPERATIONS = ['list', 'watch', 'lease'] as const;
export type ApiOperation = (typeof API_OPERATIONS)[number];
/** `unreachable`: no HTTP answer (connection refused, DNS, timeout, TLS handshake or certificate). */
export const API_ERROR_REASONS = ['unreachable', 'unauthorized', 'forbidden', 'server_error', 'other'] as const;
export type ApiErrorReason = (typeof API_ERROR_REASONS)[number];

export interface ApiFailure {
  readonly reason: ApiErrorReason;
  /** The HTTP status, when the API server answered. */
  readonly code?: number | undefined;
  /** One line: `connect ECONNREFUSED 10.96.0.1:443`, `401 Unauthorized`, `self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`. */
  readonly err: string;
}

const HINTS: Partial<Record<ApiErrorReason, string>> = {
  unreachable: 'check the API server address (KUBECONFIG, or KUBERNETES_SERVICE_HOST/PORT in a pod), the network path to it and its CA',
  unauthorized: 'the API server rejected the credentials: an expired or revoked token, or a kubeconfig for another cluster',
  forbidden: 'the operator\'s RBAC does not allow this call: compare its (Cluster)Role with the chart\'s',
};

const oneLine = (s: string): string => s.split('\n')[0]!.slice(0, 300);

/** The Status message of an ApiException body (a JSON string or an object), if any. */
function statusMessage(body: unknown): string | undefined {
  let b = body;
  if (typeof b === 'string') { try { b = JSON.parse(b); } catch { return undefined; } }
  const m = (b as { message?: unknown } | null)?.message;
  return typeof m === 'string' && m !== '' ? m : undefined;
}

/**
 * client-node's errors → reason. An HTTP answer carries its status (`ApiException.code`, the watch's
 * `statusCode`); no answer is undici's `TypeError: fetch failed` (or `terminated`) with the socket or TLS
 * error as its `cause`, or a TimeoutError. Anything else (e.g. "HTTP protocol is not allowed when
 * skipTLSVerify is not set") is `other`.
 */
export function classifyApiError(err: unknown): ApiFailure {
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; name?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  const code = typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (code !== undefined) {
    const text = `${code} ${STATUS_CODES[code] ?? 'HTTP error'}`;
    const detail = statusMessage(e?.body);
    const reason: ApiErrorReason = code === 401 ? 'unauthorized' : code === 403 ? 'forbidden' : code >= 500 ? 'server_error' : 'other';
    return { reason, code, err: oneLine(detail && detail !== STATUS_CODES[code] ? `${text}: ${detail}` : text) };
  }
  // The innermost cause that says something: undici wraps the socket/TLS error, sometimes twice.
  let inner: { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let c = e?.cause as typeof inner, i = 0; c && i < 5; c = c.cause as typeof inner, i++) inner = c;
  const message = String(e?.message ?? err);
  const transport = e?.name === 'TimeoutError' || (e?.name === 'TypeError' && (message === 'fetch failed' || message === 'terminated'))
    || (typeof inner?.code === 'string' && /^(E[A-Z]+$|UND_ERR_|ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/.test(inner.code));
  if (inner !== undefined && typeof inner.message === 'string') {
    const innerCode = typeof inner.code === 'string' && !inner.message.includes(inner.code) ? ` (${inner.code})` : '';
    return { reason: transport ? 'unreachable' : 'other', err: oneLine(`${inner.message}${innerCode}`) };
  }
  return { reason: transport ? 'unreachable' : 'other', err: oneLine(e?.name === 'TimeoutError' ? `timed out: ${message}` : message) };
}

export interface ApiHealthOptions {
  readonly clock: Clock;
  /** The API server's URL (for the log and /readyz). */
  readonly server: string;
  readonly metrics?: Pick<OperatorMetrics, 'apiErrors' | 'apiReachable'>;
}

interface SourceFailure extends ApiFailure { readonly operation: ApiOperation; readonly what: string; readonly at: number }

export class ApiHealth {
  private readonly options: ApiHealthOptions;
  /** Sources whose latest call failed. */
  private readonly failing = new Map<string, SourceFailure>();
  private episode: { readonly since: number; reason: ApiErrorReason; failures: number } | undefined;
  private succeededOnce = false;

  constructor(options: ApiHealthOptions) {
    this.options = options;
    // Every series exists from the start (0), so that increase() sees the first error.
    for (const operation of API_OPERATIONS) for (const reason of API_ERROR_REASONS) options.metrics?.apiErrors.inc({ operation, reason }, 0);
    options.metrics?.apiReachable.set(0);
  }

  get server(): string { return this.options.server; }

  /** A call has succeeded at least once, and the latest call of every source succeeded. */
  get reachable(): boolean { return this.succeededOnce && this.episode === undefined; }

  succeeded(source: string): void {
    this.failing.delete(source);
    this.succeededOnce = true;
    if (this.failing.size > 0) return;
    const ep = this.episode;
    if (ep !== undefined) {
      this.episode = undefined;
      log.info('operator.api.recovered', { server: this.options.server, durationMs: this.options.clock.now() - ep.since, failures: ep.failures });
    }
    this.options.metrics?.apiReachable.set(1);
  }

  /**
   * A call of `source` failed (`what` names it for people: `list dhcpscopes (all namespaces)`). The first
   * failure while healthy (or before any success) starts an episode and is logged at error.
   */
  failed(source: string, operation: ApiOperation, what: string, err: unknown, hint?: string): ApiFailure {
    const f = classifyApiError(err);
    const now = this.options.clock.now();
    this.failing.set(source, { ...f, operation, what, at: now });
    this.options.metrics?.apiErrors.inc({ operation, reason: f.reason });
    this.options.metrics?.apiReachable.set(0);
    const fields = { server: this.options.server, operation, resource: what, reason: f.reason, code: f.code, err: f.err, hint: hint ?? HINTS[f.reason] };
    if (this.episode === undefined) {
      this.episode = { since: now, reason: f.reason, failures: 1 };
      log.error('operator.api.error', fields);
      return f;
    }
    this.episode.failures++;
    if (f.reason !== this.episode.reason) {
      this.episode.reason = f.reason;
      log.warn('operator.api.reason_changed', fields);
    }
    return f;
  }

  /** The source is gone (a stopped informer): its last failure no longer counts; an episode ends only with a success. */
  forget(source: string): void { this.failing.delete(source); }

  /** Why the API is not reachable, in one line (for /readyz). */
  describe(): string {
    if (this.reachable) return `kubernetes API ${this.options.server} reachable`;
    const latest = [...this.failing.values()].sort((a, b) => b.at - a.at)[0];
    if (this.episode === undefined) return `kubernetes API ${this.options.server}: no call has succeeded yet`;
    const secs = Math.round((this.options.clock.now() - this.episode.since) / 1000);
    if (latest === undefined) return `kubernetes API ${this.options.server}: ${this.episode.reason} for ${secs} s, waiting for a call to succeed`;
    return `kubernetes API ${this.options.server}: ${latest.reason} (${latest.err}) on ${latest.what}, for ${secs} s`;
  }
}

export interface Readiness { readonly ready: boolean; readonly reason: string }

/**
 * /readyz: the API is reachable (every source's latest call succeeded) and, on the leader, every informer
 * has synced. A standby (or a suspended leader) has no controller: the Lease calls alone decide.
 */
export function operatorReadiness(api: Pick<ApiHealth, 'reachable' | 'describe'>, controller: { readonly isSynced: boolean } | undefined): Readiness {
  if (!api.reachable) return { ready: false, reason: api.describe() };
  if (controller !== undefined && !controller.isSynced) return { ready: false, reason: 'informer caches not synced yet' };
  return { ready: true, reason: 'ok' };
}
