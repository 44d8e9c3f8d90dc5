// Wraps a LeaseStore to time writes and count failures, so the server core stays metric-free.
import type { ServerMetrics } from '../metrics/registry.ts';
import type { LeaseStore } from './store.ts';

export function instrumentStore(store: LeaseStore, metrics: Pick<ServerMetrics, 'storeErrors' | 'storeWriteSeconds'>): LeaseStore {
  return {
    loadAll: () => store.loadAll(),
    async put(leases) {
      const end = metrics.storeWriteSeconds.startTimer();
      try {
        await store.put(leases);
        end();
      } catch (err) {
        metrics.storeErrors.inc({ operation: 'put' });
        throw err;
      }
    },
    remove: (ips) => store.remove(ips),
    getMeta: (key) => store.getMeta(key),
    setMeta: (key, value) => store.setMeta(key, value),
    healthy: () => store.healthy(),
    close: () => store.close(),
  };
}
