import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressAt, isDynamic, mergeRanges, planScope, subtractRanges } from '../../src/dhcp/pool.ts';
import { ip, makeReservation, makeScope } from '../fakes/dhcp-builders.ts';

describe('pool', () => {
  it('subtracts exclusions from ranges', () => {
    const cases = [
      { name: 'middle', ranges: [[10, 20]], cuts: [[12, 14]], expected: [[10, 11], [15, 20]] },
      { name: 'left edge', ranges: [[10, 20]], cuts: [[5, 10]], expected: [[11, 20]] },
      { name: 'whole', ranges: [[10, 20]], cuts: [[0, 30]], expected: [] },
      { name: 'outside', ranges: [[10, 20]], cuts: [[30, 40]], expected: [[10, 20]] },
      { name: 'two ranges, one cut across', ranges: [[10, 20], [30, 40]], cuts: [[15, 35]], expected: [[10, 14], [36, 40]] },
    ];
    for (const c of cases) {
      const got = subtractRanges(c.ranges.map(([s, e]) => ({ start: s!, end: e! })), c.cuts.map(([s, e]) => ({ start: s!, end: e! })));
      assert.deepEqual(got.map((r) => [r.start, r.end]), c.expected, c.name);
    }
  });

  it('merges overlapping and adjacent ranges', () => {
    assert.deepEqual(mergeRanges([{ start: 5, end: 9 }, { start: 1, end: 4 }, { start: 8, end: 12 }]), [{ start: 1, end: 12 }]);
  });

  it('indexes addresses across intervals and skips exclusions', () => {
    const plan = planScope(makeScope({
      ranges: [{ start: ip('10.0.0.10'), end: ip('10.0.0.20') }, { start: ip('10.0.0.100'), end: ip('10.0.0.101') }],
      exclusions: [{ start: ip('10.0.0.12'), end: ip('10.0.0.19') }],
    }));
    assert.equal(plan.size, 3 + 2);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => addressAt(plan, i)), ['10.0.0.10', '10.0.0.11', '10.0.0.20', '10.0.0.100', '10.0.0.101'].map(ip));
    assert.equal(isDynamic(plan, ip('10.0.0.15')), false);
    assert.equal(isDynamic(plan, ip('10.0.0.20')), true);
  });

  it('treats reserved addresses as not dynamic', () => {
    const plan = planScope(makeScope({ reservations: [makeReservation({ ip: ip('10.0.0.11'), hw: '1:020000000009' })] }));
    assert.equal(isDynamic(plan, ip('10.0.0.11')), false);
    assert.equal(plan.reservationsByClient.get('hw:1:020000000009')?.ip, ip('10.0.0.11'));
  });
});
