// Opens the lease store a config names.
import type { StoreConfig } from '../config/schema.ts';
import { MemoryStore } from './memory-store.ts';
import type { LeaseStore } from './store.ts';

export async function openStore(cfg: StoreConfig): Promise<LeaseStore> {
  if (cfg.type === 'memory') return new MemoryStore();
  const { RedisStore } = await import('./redis-store.ts');
  return RedisStore.open(cfg);
}
