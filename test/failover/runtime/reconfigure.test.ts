import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAILOVER_DEFAULTS, type FailoverConfig } from '../../../src/config/failover.ts';
import { planReconfigure } from '../../../src/failover/runtime/reconfigure.ts';

const base: FailoverConfig = {
  ...FAILOVER_DEFAULTS, relationship: 'r', role: 'primary', address: '10.0.0.2', partner: { address: '10.0.0.3', port: 647 },
  mode: 'load-balance', sharedSecret: 's1',
};
const secret = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s));

describe('planReconfigure: what a changed failover section means for a running peer', () => {
  const cases: { name: string; change: Partial<FailoverConfig>; role?: 'primary' | 'secondary'; secretBefore?: string | undefined; secretAfter?: string | undefined; changed: string[]; restart: string[]; relink: boolean; rotate?: boolean }[] = [
    { name: 'nothing changed', change: {}, changed: [], restart: [], relink: false },
    { name: 'split on the primary: sent in CONNECT → relink', change: { splitPercent: 70 }, changed: ['failover.splitPercent'], restart: [], relink: true },
    { name: 'split on the secondary: it uses the primary\'s HBA → local only', role: 'secondary', change: { splitPercent: 70 }, changed: ['failover.splitPercent'], restart: [], relink: false },
    { name: 'mode on the primary → relink', change: { mode: 'hot-standby', splitPercent: 100 }, changed: ['failover.mode', 'failover.splitPercent'], restart: [], relink: true },
    { name: 'MCLT → relink', change: { mcltSeconds: 600 }, changed: ['failover.mcltSeconds'], restart: [], relink: true },
    { name: 'max-response-delay → relink', change: { maxResponseDelaySeconds: 10 }, changed: ['failover.maxResponseDelaySeconds'], restart: [], relink: true },
    { name: 'reserve percent → local', change: { reservePercent: 10 }, changed: ['failover.reservePercent'], restart: [], relink: false },
    { name: 'switchover interval added → local', change: { stateSwitchoverSeconds: 300 }, changed: ['failover.stateSwitchoverSeconds'], restart: [], relink: false },
    { name: 'secret value replaced → rotated in place, no relink (the previous one stays accepted for the grace period)', change: { sharedSecret: 's2' }, secretAfter: 's2', changed: ['failover.sharedSecret'], restart: [], relink: false, rotate: true },
    { name: 'secret replaced together with the MCLT → relink (the relink carries the rotation)', change: { sharedSecret: 's2', mcltSeconds: 600 }, secretAfter: 's2', changed: ['failover.sharedSecret', 'failover.mcltSeconds'], restart: [], relink: true, rotate: true },
    { name: 'secret added → relink (one side signing, the other refusing digests cannot be seamless)', change: {}, secretBefore: undefined, secretAfter: 's1', changed: ['failover.sharedSecret'], restart: [], relink: true },
    { name: 'secret moved to a file with the same bytes → no relink', change: { sharedSecret: undefined, sharedSecretFile: '/run/s' }, secretAfter: 's1', changed: ['failover.sharedSecret', 'failover.sharedSecretFile'], restart: [], relink: false },
    { name: 'secret file contents rotated (same path) → rotated in place, no relink', change: {}, secretAfter: 'rotated', changed: ['failover.sharedSecret'], restart: [], relink: false, rotate: true },
    { name: 'secret removed → relink', change: { sharedSecret: undefined }, secretAfter: undefined, changed: ['failover.sharedSecret'], restart: [], relink: true },
    { name: 'partner address → restart', change: { partner: { address: '10.0.0.9', port: 647 } }, changed: ['failover.partner'], restart: ['failover.partner'], relink: false },
    { name: 'role → restart', change: { role: 'secondary' }, changed: ['failover.role'], restart: ['failover.role'], relink: false },
    { name: 'relationship name → restart', change: { relationship: 'other' }, changed: ['failover.relationship'], restart: ['failover.relationship'], relink: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const running = { ...base, role: c.role ?? 'primary' };
      const next = { ...running, ...c.change };
      const after = 'secretAfter' in c ? secret(c.secretAfter) : secret('s1');
      const before = 'secretBefore' in c ? secret(c.secretBefore as string | undefined) : secret('s1');
      const plan = planReconfigure(running, before, next, after);
      assert.deepEqual([...plan.changed].sort(), [...c.changed].sort());
      assert.deepEqual(plan.restartRequired, c.restart);
      assert.equal(plan.relink, c.relink);
      assert.equal(plan.rotateSecret, c.rotate ?? false);
    });
  }
});
