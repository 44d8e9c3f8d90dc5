// The operator's Prometheus metrics (its own registry; the server's live in src/metrics/registry.ts).
import client from 'prom-client';

export interface OperatorMetrics {
  readonly registry: client.Registry;
  readonly reconciles: client.Counter<'kind' | 'result'>;
  readonly errors: client.Counter<'kind'>;
  readonly duration: client.Histogram<'kind'>;
  readonly queueDepth: client.Gauge;
  readonly leader: client.Gauge;
  /** Failed list, watch and Lease calls (api-health.ts `API_ERROR_REASONS`). */
  readonly apiErrors: client.Counter<'operation' | 'reason'>;
  /** 1 while the latest list, watch and Lease calls all succeeded (api-health.ts). */
  readonly apiReachable: client.Gauge;
}

export function createOperatorMetrics(options: { queueDepth?: () => number; defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = new client.Registry();
  if (options.defaultMetrics ?? false) client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    reconciles: new client.Counter({ name: 'dhcp_operator_reconciles_total', help: 'Reconciles by kind and result (applied, unchanged, invalid, gone, held, error)', labelNames: ['kind', 'result'], registers: [registry] }),
    errors: new client.Counter({ name: 'dhcp_operator_reconcile_errors_total', help: 'Reconciles that failed and were requeued with backoff', labelNames: ['kind'], registers: [registry] }),
    duration: new client.Histogram({ name: 'dhcp_operator_reconcile_duration_seconds', help: 'Time spent in one reconcile', labelNames: ['kind'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
    queueDepth: new client.Gauge({ name: 'dhcp_operator_queue_depth', help: 'Keys waiting in the work queue (including retries)', registers: [registry], collect() { if (options.queueDepth) this.set(options.queueDepth()); } }),
    leader: new client.Gauge({ name: 'dhcp_operator_leader', help: '1 while this replica holds the leader Lease', registers: [registry] }),
    apiErrors: new client.Counter({ name: 'dhcp_operator_api_errors_total', help: 'Failed Kubernetes API calls by operation (list, watch, lease) and reason (unreachable, unauthorized, forbidden, server_error, other)', labelNames: ['operation', 'reason'], registers: [registry] }),
    apiReachable: new client.Gauge({ name: 'dhcp_operator_api_reachable', help: '1 while the latest list, watch and Lease calls to the Kubernetes API all succeeded; 0 before the first success and while any fails', registers: [registry] }),
  };
}
