import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAILOVER_DEFAULTS, validateFailover } from '../../src/config/failover.ts';

type Raw = Record<string, unknown>;
const base = (): Raw => ({ relationship: 'lab-fo', role: 'primary', address: '127.0.0.2', partner: { address: '127.0.0.3' }, mode: 'load-balance' });

describe('validateFailover', () => {
  it('applies every default', () => {
    const { config, problems } = validateFailover(base());
    assert.deepEqual(problems, []);
    assert.deepEqual(config, {
      relationship: 'lab-fo', role: 'primary', address: '127.0.0.2', port: 647, partner: { address: '127.0.0.3', port: 647 },
      mode: 'load-balance', splitPercent: 50, reservePercent: 0, mcltSeconds: 3600, stateSwitchoverSeconds: undefined,
      maxUnackedUpdates: 10, maxResponseDelaySeconds: 30, sharedSecret: undefined, sharedSecretFile: undefined,
      partnerDialect: 'self', loadBalanceMaxSeconds: 3, startupSeconds: FAILOVER_DEFAULTS.startupSeconds,
    });
  });

  it('hot standby: the primary serves every bucket, the standby keeps reservePercent (default 5)', () => {
    const { config } = validateFailover({ ...base(), mode: 'hot-standby' });
    assert.equal(config?.splitPercent, 100);
    assert.equal(config?.reservePercent, 5);
  });

  const cases: { name: string; mutate: (r: Raw) => void; paths: string[] }[] = [
    { name: 'not a mapping', mutate: (r) => { for (const k of Object.keys(r)) delete r[k]; Object.assign(r, { x: 1 }); }, paths: ['failover.address', 'failover.mode', 'failover.partner', 'failover.relationship', 'failover.role', 'failover.x'] },
    { name: 'unknown key', mutate: (r) => { r.mclt = 60; }, paths: ['failover.mclt'] },
    { name: 'bad role', mutate: (r) => { r.role = 'backup'; }, paths: ['failover.role'] },
    { name: 'bad partner address', mutate: (r) => { r.partner = { address: '10.0.0' }; }, paths: ['failover.partner.address'] },
    { name: 'partner port out of range', mutate: (r) => { r.partner = { address: '127.0.0.3', port: 70000 }; }, paths: ['failover.partner.port'] },
    { name: 'partner is self', mutate: (r) => { r.partner = { address: '127.0.0.2' }; }, paths: ['failover.partner'] },
    { name: 'mclt zero', mutate: (r) => { r.mcltSeconds = 0; }, paths: ['failover.mcltSeconds'] },
    { name: 'split > 100', mutate: (r) => { r.splitPercent = 101; }, paths: ['failover.splitPercent'] },
    { name: 'reserve in load-balance', mutate: (r) => { r.reservePercent = 5; }, paths: ['failover.reservePercent'] },
    { name: 'split in hot-standby', mutate: (r) => { r.mode = 'hot-standby'; r.splitPercent = 40; }, paths: ['failover.splitPercent'] },
    { name: 'both secrets', mutate: (r) => { r.sharedSecret = 'a'; r.sharedSecretFile = '/x'; }, paths: ['failover.sharedSecretFile'] },
    { name: 'secret with isc', mutate: (r) => { r.partnerDialect = 'isc'; r.sharedSecret = 'a'; }, paths: ['failover.sharedSecret'] },
    { name: 'bad dialect', mutate: (r) => { r.partnerDialect = 'windows'; }, paths: ['failover.partnerDialect'] },
    { name: 'relationship too long', mutate: (r) => { r.relationship = 'x'.repeat(127); }, paths: ['failover.relationship'] },
    { name: 'non-integer unacked', mutate: (r) => { r.maxUnackedUpdates = 2.5; }, paths: ['failover.maxUnackedUpdates'] },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      const raw = base();
      c.mutate(raw);
      const { config, problems } = validateFailover(raw);
      assert.equal(config, undefined);
      assert.deepEqual(problems.map((p) => p.path).sort(), c.paths);
    });
  }
});
