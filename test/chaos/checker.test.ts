import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { converged, findDuplicates, holdings, lostLeases, storeConflicts, unservedAttempts } from './checker.ts';
import type { FleetEvent } from './fleet.ts';
import { prng, schedule } from './run.ts';

const ack = (t: number, mac: string, ip: string, until: number): FleetEvent => ({ type: 'ack', t, until, mac, ip, server: 's', renewal: false });

describe('chaos checker', () => {
  it('finds two clients holding one address at once, and not a clean hand-over', () => {
    const dup = holdings([ack(0, 'a', '10.0.0.1', 60_000), ack(30_000, 'b', '10.0.0.1', 90_000)]);
    assert.equal(findDuplicates(dup, 2000).length, 1);
    const clean = holdings([ack(0, 'a', '10.0.0.1', 60_000), ack(61_000, 'b', '10.0.0.1', 120_000)]);
    assert.equal(findDuplicates(clean, 2000).length, 0);
  });
  it('a renewal extends the hold; expiry, NAK or a move end it early', () => {
    const h = holdings([ack(0, 'a', 'x', 10_000), ack(5000, 'a', 'x', 20_000), { type: 'expired', t: 20_000, mac: 'a', ip: 'x' }, ack(25_000, 'b', 'x', 40_000)]);
    assert.deepEqual(h.get('x')?.map((i) => [i.mac, i.from, i.to]), [['a', 0, 20_000], ['b', 25_000, 40_000]]);
    const moved = holdings([ack(0, 'a', 'x', 60_000), ack(10_000, 'a', 'y', 70_000), ack(11_000, 'b', 'x', 70_000)]);
    assert.equal(findDuplicates(moved, 2000).length, 0);
    const naked = holdings([ack(0, 'a', 'x', 60_000), { type: 'nak', t: 5000, mac: 'a', ip: 'x' }, ack(6000, 'b', 'x', 70_000)]);
    assert.equal(findDuplicates(naked, 2000).length, 0);
  });
  it('stores: conflicts across stores, convergence, leases a client holds that a store lost', () => {
    const a = [{ ip: 'x', mac: 'm1', expiresAt: 100 }], b = [{ ip: 'x', mac: 'm2', expiresAt: 100 }];
    assert.equal(storeConflicts(a, b, 0).length, 1);
    assert.equal(storeConflicts(a, b, 200).length, 0, 'expired entries do not count');
    assert.equal(converged(a, a, 0).ok, true);
    assert.equal(converged(a, b, 0).ok, false);
    const held: FleetEvent[] = [{ type: 'holding', t: 0, mac: 'm1', ip: 'x', expiresAt: 60_000 }];
    assert.deepEqual(lostLeases(held, a, 5000), []);
    assert.equal(lostLeases(held, b, 5000).length, 1);
  });
  it('an attempt that failed while a server was serving throughout is unserved; during a total outage it is not', () => {
    const fail: FleetEvent = { type: 'attempt', t: 10_000, mac: 'a', ok: false, ms: 4000, renewal: true };
    assert.equal(unservedAttempts([fail], [{ t: 6000, states: ['normal', undefined] }, { t: 9000, states: ['normal', 'startup'] }]).length, 1);
    assert.equal(unservedAttempts([fail], [{ t: 6000, states: ['recover', undefined] }, { t: 9000, states: [undefined, undefined] }]).length, 0);
  });
  it('a seed replays the same schedule', () => {
    assert.deepEqual(schedule(7, 120_000), schedule(7, 120_000));
    assert.notDeepEqual(schedule(7, 120_000), schedule(8, 120_000));
    const r = prng(1);
    assert.ok(Array.from({ length: 100 }, r).every((x) => x >= 0 && x < 1));
  });
});
