// Every Prometheus metric the server exports, in one place (docs/metrics.md is the catalogue).
import client from 'prom-client';

export interface ServerMetrics {
  readonly registry: client.Registry;
  readonly messagesReceived: client.Counter<'type'>;
  readonly messagesSent: client.Counter<'type'>;
  readonly dropped: client.Counter<'reason'>;
  readonly pendingPackets: client.Gauge<'stage'>;
  /** The UDP edge says how to read its load; the gauge reads it at scrape time (nothing per packet). */
  readonly pendingSource: { read?: () => { readonly inFlight: number; readonly queued: number } };
  readonly processingSeconds: client.Histogram<'type'>;
  readonly leases: client.Gauge<'scope' | 'state'>;
  readonly scopeSize: client.Gauge<'scope'>;
  readonly scopeUtilization: client.Gauge<'scope'>;
  readonly storeErrors: client.Counter<'operation'>;
  readonly storeWriteSeconds: client.Histogram;
  readonly configReloads: client.Counter<'result'>;
  readonly configInfo: client.Gauge<'hash'>;
  /** Admin requests refused (src/admin/http.ts): path = the route, reason = missing_token, wrong_token, token_unavailable, not_loopback. */
  readonly adminRefused: client.Counter<'path' | 'reason'>;
}

/** `collectLeases` runs at scrape time so the lease gauges cost nothing on the packet path. */
export function createServerMetrics(options: { collectLeases?: (m: ServerMetrics) => void; defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new client.Registry();
  if (options.defaultMetrics ?? true) client.collectDefaultMetrics({ register: registry });
  const pendingSource: ServerMetrics['pendingSource'] = {};
  const metrics: ServerMetrics = {
    registry,
    pendingSource,
    messagesReceived: new client.Counter({ name: 'dhcp_messages_received_total', help: 'DHCP messages received, by message type', labelNames: ['type'], registers: [registry] }),
    messagesSent: new client.Counter({ name: 'dhcp_messages_sent_total', help: 'DHCP messages sent, by message type', labelNames: ['type'], registers: [registry] }),
    dropped: new client.Counter({ name: 'dhcp_packets_dropped_total', help: 'Packets dropped without a reply, by reason', labelNames: ['reason'], registers: [registry] }),
    pendingPackets: new client.Gauge({
      name: 'dhcp_pending_packets', help: 'Packets being handled (in_flight) or waiting for a slot (queued)', labelNames: ['stage'], registers: [registry],
      collect() {
        const p = pendingSource.read?.();
        if (p !== undefined) { this.set({ stage: 'in_flight' }, p.inFlight); this.set({ stage: 'queued' }, p.queued); }
      },
    }),
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
    configReloads: new client.Counter({ name: 'dhcp_config_reloads_total', help: 'Config file reloads, by result (applied, rejected: invalid file, refused_empty: valid file listing no scope while scopes are served, failed: error while applying)', labelNames: ['result'], registers: [registry] }),
    configInfo: new client.Gauge({ name: 'dhcp_config_info', help: 'Hash of the config in use (value 1)', labelNames: ['hash'], registers: [registry] }),
    adminRefused: new client.Counter({ name: 'dhcp_admin_requests_refused_total', help: 'Admin HTTP requests refused, by route and reason (missing_token, wrong_token, token_unavailable: server.admin.tokenFile unreadable or empty, not_loopback: an action from a remote caller without a token configured)', labelNames: ['path', 'reason'], registers: [registry] }),
  };
  return metrics;
}

/** Failover relationship metrics (src/failover/runtime/peer.ts sets them; docs/metrics.md lists them). */
export interface FailoverMetrics {
  /** Own failover state as its wire code (2 NORMAL, 3 COMMUNICATIONS-INTERRUPTED, 4 PARTNER-DOWN, … 254 RECOVER-WAIT). */
  readonly state: client.Gauge<'relationship' | 'server' | 'state'>;
  readonly partnerState: client.Gauge<'relationship' | 'server' | 'state'>;
  readonly stateSeconds: client.Gauge<'relationship' | 'server'>;
  readonly clockSkewSeconds: client.Gauge<'relationship'>;
  readonly connectionUp: client.Gauge<'relationship'>;
  /** 1 while the established link still uses the previous shared secret in either direction (a rotation in progress). */
  readonly previousSecretInUse: client.Gauge<'relationship'>;
  readonly unackedUpdates: client.Gauge<'relationship'>;
  readonly queuedUpdates: client.Gauge<'relationship'>;
  readonly updatesSent: client.Counter<'relationship'>;
  readonly updatesAcked: client.Counter<'relationship'>;
  readonly updatesRejected: client.Counter<'relationship' | 'reason'>;
  readonly updateAckSeconds: client.Histogram<'relationship'>;
  readonly updatesReceived: client.Counter<'relationship' | 'result'>;
  readonly authFailures: client.Counter<'relationship'>;
  readonly connectRejects: client.Counter<'relationship' | 'reason'>;
  readonly linkErrors: client.Counter<'relationship' | 'kind'>;
}

/** `collect` runs at scrape time (time in state). */
export function createFailoverMetrics(registry: client.Registry, collect?: (m: FailoverMetrics) => void): FailoverMetrics {
  const r = [registry];
  const m: FailoverMetrics = {
    // State sets (1 for the current state, 0 for every other), so alerts read `{state="partner-down"} == 1`.
    state: new client.Gauge({ name: 'dhcp_failover_state', help: 'Own failover state: 1 for the current state label, 0 for the others', labelNames: ['relationship', 'server', 'state'], registers: r }),
    partnerState: new client.Gauge({ name: 'dhcp_failover_partner_state', help: 'State the partner last reported while connected: 1 for that state label ("unknown" when not connected), 0 for the others', labelNames: ['relationship', 'server', 'state'], registers: r }),
    stateSeconds: new client.Gauge({ name: 'dhcp_failover_state_seconds', help: 'Seconds since this server entered its current failover state', labelNames: ['relationship', 'server'], registers: r, collect() { collect?.(m); } }),
    clockSkewSeconds: new client.Gauge({ name: 'dhcp_failover_clock_skew_seconds', help: 'Local minus partner clock, measured at the last handshake', labelNames: ['relationship'], registers: r }),
    connectionUp: new client.Gauge({ name: 'dhcp_failover_connection_up', help: '1 while the failover link is established and STATE was exchanged', labelNames: ['relationship'], registers: r }),
    previousSecretInUse: new client.Gauge({ name: 'dhcp_failover_previous_secret_in_use', help: '1 while the failover link still signs or verifies with the shared secret from before the last change (rotation not complete)', labelNames: ['relationship'], registers: r }),
    unackedUpdates: new client.Gauge({ name: 'dhcp_failover_unacked_updates', help: 'BNDUPDs sent and not yet acknowledged', labelNames: ['relationship'], registers: r }),
    queuedUpdates: new client.Gauge({ name: 'dhcp_failover_queued_updates', help: 'BNDUPDs waiting to be sent', labelNames: ['relationship'], registers: r }),
    updatesSent: new client.Counter({ name: 'dhcp_failover_updates_sent_total', help: 'BNDUPDs sent', labelNames: ['relationship'], registers: r }),
    updatesAcked: new client.Counter({ name: 'dhcp_failover_updates_acked_total', help: 'BNDUPDs the partner accepted', labelNames: ['relationship'], registers: r }),
    updatesRejected: new client.Counter({ name: 'dhcp_failover_updates_rejected_total', help: 'BNDUPDs the partner rejected, by reject reason', labelNames: ['relationship', 'reason'], registers: r }),
    updateAckSeconds: new client.Histogram({
      name: 'dhcp_failover_update_ack_seconds', help: 'Time from sending a BNDUPD to its BNDACK (accepted or rejected)', labelNames: ['relationship'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: r,
    }),
    updatesReceived: new client.Counter({ name: 'dhcp_failover_updates_received_total', help: 'BNDUPDs received, by result (accepted, rejected, failed)', labelNames: ['relationship', 'result'], registers: r }),
    authFailures: new client.Counter({ name: 'dhcp_failover_auth_failures_total', help: 'Failover messages with a missing, bad or unexpected message digest (the link is closed)', labelNames: ['relationship'], registers: r }),
    connectRejects: new client.Counter({ name: 'dhcp_failover_connect_rejects_total', help: 'Handshakes refused (by us or the partner), by reject reason (4 = clock skew)', labelNames: ['relationship', 'reason'], registers: r }),
    linkErrors: new client.Counter({ name: 'dhcp_failover_link_errors_total', help: 'Failover protocol problems by kind: links closed for protocol errors or timeouts, refused or evicted sockets, unmatched BNDACKs, unsolicited UPDDONEs', labelNames: ['relationship', 'kind'], registers: r }),
  };
  return m;
}
