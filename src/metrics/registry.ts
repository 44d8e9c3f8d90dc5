// Every Prometheus metric the server exports, in one place (docs/metrics.md is the catalogue).
import client from 'prom-client';

export interface ServerMetrics {
  readonly registry: client.Registry;
  readonly messagesReceived: client.Counter<'type'>;
  readonly messagesSent: client.Counter<'type'>;
  readonly dropped: client.Counter<'reason'>;
  readonly processingSeconds: client.Histogram<'type'>;
  readonly leases: client.Gauge<'scope' | 'state'>;
  readonly scopeSize: client.Gauge<'scope'>;
  readonly scopeUtilization: client.Gauge<'scope'>;
  readonly storeErrors: client.Counter<'operation'>;
  readonly storeWriteSeconds: client.Histogram;
  readonly configReloads: client.Counter<'result'>;
  readonly configInfo: client.Gauge<'hash'>;
}

/** `collectLeases` runs at scrape time so the lease gauges cost nothing on the packet path. */
export function createServerMetrics(options: { collectLeases?: (m: ServerMetrics) => void; defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new client.Registry();
  if (options.defaultMetrics ?? true) client.collectDefaultMetrics({ register: registry });
  const metrics: ServerMetrics = {
    registry,
    messagesReceived: new client.Counter({ name: 'dhcp_messages_received_total', help: 'DHCP messages received, by message type', labelNames: ['type'], registers: [registry] }),
    messagesSent: new client.Counter({ name: 'dhcp_messages_sent_total', help: 'DHCP messages sent, by message type', labelNames: ['type'], registers: [registry] }),
    dropped: new client.Counter({ name: 'dhcp_packets_dropped_total', help: 'Packets dropped without a reply, by reason', labelNames: ['reason'], registers: [registry] }),
    processingSeconds: new client.Histogram({
      name: 'dhcp_processing_seconds', help: 'Time from receiving a message to sending its reply (including the lease store write)',
      labelNames: ['type'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
    }),
    leases: new client.Gauge({
      name: 'dhcp_leases', help: 'Leases by scope and binding state', labelNames: ['scope', 'state'], registers: [registry],
      collect() { options.collectLeases?.(metrics); },
    }),
    scopeSize: new client.Gauge({ name: 'dhcp_scope_addresses', help: 'Addresses in the dynamic pool of a scope', labelNames: ['scope'], registers: [registry] }),
    scopeUtilization: new client.Gauge({ name: 'dhcp_scope_utilization_ratio', help: 'Active leases divided by pool size (0..1)', labelNames: ['scope'], registers: [registry] }),
    storeErrors: new client.Counter({ name: 'dhcp_store_errors_total', help: 'Lease store operations that failed', labelNames: ['operation'], registers: [registry] }),
    storeWriteSeconds: new client.Histogram({
      name: 'dhcp_store_write_seconds', help: 'Lease store write latency (one batch)', buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: [registry],
    }),
    configReloads: new client.Counter({ name: 'dhcp_config_reloads_total', help: 'Config file reloads, by result (applied, rejected)', labelNames: ['result'], registers: [registry] }),
    configInfo: new client.Gauge({ name: 'dhcp_config_info', help: 'Hash of the config in use (value 1)', labelNames: ['hash'], registers: [registry] }),
  };
  return metrics;
}
