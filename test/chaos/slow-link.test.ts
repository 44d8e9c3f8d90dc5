import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { schedule } from './run.ts';
import { histogramBuckets, quantileBetween } from './slow-link.ts';

const scrape = (counts: number[]): string => {
  const les = ['0.1', '1', '5', '+Inf'];
  return [
    '# TYPE dhcp_failover_update_ack_seconds histogram',
    ...les.map((le, i) => `dhcp_failover_update_ack_seconds_bucket{le="${le}",relationship="chaos"} ${counts[i]}`),
    `dhcp_failover_update_ack_seconds_count{relationship="chaos"} ${counts[3]}`,
    'dhcp_failover_update_ack_seconds_bucket_other{le="1"} 999',
  ].join('\n');
};

describe('slow failover link: measuring the delay it causes', () => {
  it('reads cumulative buckets and sums them over label sets', () => {
    const b = histogramBuckets(`${scrape([1, 2, 3, 4])}\n${scrape([10, 20, 30, 40]).replace(/chaos/g, 'other')}`, 'dhcp_failover_update_ack_seconds');
    assert.deepEqual([...b.entries()], [[0.1, 11], [1, 22], [5, 33], [Infinity, 44]]);
  });

  it('quantiles of the observations between two scrapes, as bucket upper bounds', () => {
    const before = histogramBuckets(scrape([100, 100, 100, 100]), 'dhcp_failover_update_ack_seconds');
    // Between the scrapes: 10 acks under 0.1 s, 70 between 1 and 5 s, 20 over 5 s.
    const after = histogramBuckets(scrape([110, 110, 180, 200]), 'dhcp_failover_update_ack_seconds');
    assert.deepEqual(quantileBetween(before, after, 0.05), { count: 100, atMost: 0.1 });
    assert.deepEqual(quantileBetween(before, after, 0.5), { count: 100, atMost: 5 });
    assert.deepEqual(quantileBetween(before, after, 0.95), { count: 100, atMost: Infinity });
    assert.deepEqual(quantileBetween(before, before, 0.5), { count: 0, atMost: 0 });
    assert.deepEqual(quantileBetween(new Map(), new Map(), 0.5), { count: 0, atMost: 0 });
  });

  it('a slow fault in a schedule carries its rate, drawn from the seed; other faults carry none', () => {
    const faults = schedule(1, 600_000);
    const slow = faults.filter((f) => f.kind === 'slow');
    assert.ok(slow.length > 0, 'ten minutes of faults include a slow one');
    assert.ok(slow.every((f) => [8, 16, 32, 64].includes(f.kbit!)));
    assert.ok(faults.filter((f) => f.kind !== 'slow').every((f) => f.kbit === undefined));
    assert.deepEqual(schedule(1, 600_000), faults, 'same seed, same schedule');
  });
});
