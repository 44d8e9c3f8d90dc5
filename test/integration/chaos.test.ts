// The chaos harness in CI (issue 6), short: 1,000 simulated clients, two minutes of seeded faults
// (test/chaos/run.ts), then the verdict: no address ever held by two clients, no acknowledged lease
// lost, stores converged, both NORMAL. The seed is printed; replay with CHAOS_SEED=<seed>. Longer runs:
// scripts/chaos.ts --minutes N. A self-test first: two servers WITHOUT failover on one pool must be
// caught with duplicates, so a green run means something.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { labUnavailableReason } from '../fakes/netns-lab.ts';
import { LIBFAKETIME, runChaos } from '../chaos/run.ts';

const skip = labUnavailableReason(['ip', 'iptables', 'curl', 'redis-server', 'redis-cli']) ?? (existsSync(LIBFAKETIME) ? undefined : `needs ${LIBFAKETIME}`);
const SEED = process.env.CHAOS_SEED !== undefined ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);

describe('chaos', { skip, timeout: 600_000 }, () => {
  it('self-test: two servers without failover on one pool are caught handing out duplicates', async () => {
    const r = await runChaos({ seed: 1, faultMs: 8000, settleMs: 8000, clients: 200, prefix: `t${process.pid % 1000}k`, kinds: ['cut'], brokenPair: true });
    assert.ok(r.duplicates.length > 0, `the checker found no duplicates in a pair without failover (${r.acks} acks)`);
    rmSync(r.labDir, { recursive: true, force: true });
  });

  it(`1,000 clients through two minutes of faults (seed ${SEED}): no duplicate, no lost lease, stores converge`, async () => {
    const lines: string[] = [];
    // Each line is also printed as it happens, so a run that fails without a report still leaves its trail.
    const r = await runChaos({ seed: SEED, faultMs: 120_000, clients: 1000, prefix: `t${process.pid % 1000}c`, log: (l) => { lines.push(l); console.log(`# chaos ${l}`); } });
    const summary = `seed ${SEED}; faults:\n${r.faults.join('\n')}\nacks ${r.acks}, attempts ${r.attempts} (${r.failedAttempts} failed, ${r.unserved} unserved); logs ${r.labDir}`;
    console.log(`# chaos ${summary.replace(/\n/g, '\n# ')}`);
    assert.deepEqual(r.duplicates, [], summary);
    assert.deepEqual(r.storeConflicts, [], summary);
    assert.deepEqual(r.lostLeases, [], summary);
    assert.ok(r.bothNormalAtEnd, `not both NORMAL at the end; ${summary}`);
    assert.ok(r.converged, `stores did not converge: ${r.convergenceDiff}; ${summary}`);
    assert.ok(r.acks >= 1000, `${r.acks} acks for 1000 clients; ${summary}`);
    rmSync(r.labDir, { recursive: true, force: true });
  });
});
