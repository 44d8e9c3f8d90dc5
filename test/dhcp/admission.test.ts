import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIMITS_DEFAULTS } from '../../src/config/defaults.ts';
import { validateLimits } from '../../src/config/validate-server.ts';
import { BoundedQueue, TokenBuckets } from '../../src/dhcp/admission.ts';

describe('TokenBuckets', () => {
  it('admits a burst, then the rate; the first refusal of a key is marked for logging once', () => {
    const b = new TokenBuckets({ ratePerSecond: 2, burst: 3 });
    const at = (ms: number) => b.take('02:00:00:00:00:01', ms);
    assert.deepEqual([at(0), at(0), at(0)], ['ok', 'ok', 'ok']);
    assert.equal(at(0), 'limited-first');
    assert.equal(at(100), 'limited');
    assert.equal(at(600), 'ok'); // 0.6 s × 2/s = 1.2 tokens refilled
    assert.equal(at(600), 'limited-first'); // admitted in between: a new episode, logged again
  });

  it('keys are independent: one flooding client does not limit another', () => {
    const b = new TokenBuckets({ ratePerSecond: 1, burst: 1 });
    assert.equal(b.take('a', 0), 'ok');
    assert.equal(b.take('a', 0), 'limited-first');
    assert.equal(b.take('b', 0), 'ok');
  });

  it('a rate of 0 disables the limit', () => {
    const b = new TokenBuckets({ ratePerSecond: 0, burst: 0 });
    for (let i = 0; i < 1000; i++) assert.equal(b.take('x', 0), 'ok');
    assert.equal(b.size, 0);
  });

  it('memory is bounded: the least recently used key is forgotten first', () => {
    const b = new TokenBuckets({ ratePerSecond: 1, burst: 1, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) b.take(`mac-${i}`, 0);
    assert.equal(b.size, 100);
    assert.equal(b.take('mac-9999', 0), 'limited-first', 'a recent key is still tracked');
    assert.equal(b.take('mac-0', 0), 'ok', 'an old key was forgotten (starts full again)');
  });
});

describe('BoundedQueue', () => {
  it('is FIFO and evicts the oldest when full', () => {
    const q = new BoundedQueue<number>(3);
    assert.equal(q.push(1), undefined);
    q.push(2); q.push(3);
    assert.equal(q.push(4), 1);
    assert.deepEqual([q.shift(), q.shift(), q.shift(), q.shift()], [2, 3, 4, undefined]);
    assert.equal(q.size, 0);
  });

  it('stays bounded over many pushes and shifts', () => {
    const q = new BoundedQueue<number>(10);
    let evicted = 0;
    for (let i = 0; i < 100_000; i++) { if (q.push(i) !== undefined) evicted++; if (i % 3 === 0) q.shift(); }
    assert.ok(q.size <= 10);
    assert.ok(evicted > 0);
  });
});

describe('validateLimits', () => {
  it('defaults when absent; burst follows the rate when not given', () => {
    assert.deepEqual(validateLimits(undefined).config, LIMITS_DEFAULTS);
    const { config, problems } = validateLimits({ relayRatePerSecond: 500 });
    assert.deepEqual(problems, []);
    assert.equal(config.relayRatePerSecond, 500);
    assert.equal(config.relayBurst, 1000);
  });

  it('reports unknown keys and out-of-range values with their path', () => {
    const { problems } = validateLimits({ clientRatePerSecond: -1, maxQueue: 0, bogus: 1 });
    assert.deepEqual(problems.map((p) => p.path).sort(), ['server.limits.bogus', 'server.limits.clientRatePerSecond', 'server.limits.maxQueue']);
  });
});
