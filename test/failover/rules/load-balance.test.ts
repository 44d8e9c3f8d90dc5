import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bucketCount, bucketMapForPercent, bucketMapForSplit, bucketOf, invertMap, isBucketSet, MIX_TABLE, ownsBucket,
  requestKeyOf, serves, shouldAnswer, splitForPrimaryPercent, type HbaPolarity, type Role,
} from '../../../src/failover/rules/load-balance.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

describe('MIX_TABLE', () => {
  it('is a permutation of 0..255', () => {
    assert.equal(MIX_TABLE.length, 256);
    assert.equal(new Set(MIX_TABLE).size, 256);
  });
  it('has the RFC 3074 first and last entries', () => {
    assert.deepEqual([...MIX_TABLE.subarray(0, 4)], [251, 175, 119, 215]);
    assert.deepEqual([...MIX_TABLE.subarray(252)], [6, 169, 234, 151]);
  });
});

describe('bucketOf (digest §8.2 test vectors)', () => {
  const vectors: { key: string; bucket: number; split128: Role; split179: Role }[] = [
    { key: '000000000000', bucket: 254, split128: 'secondary', split179: 'secondary' },
    { key: '001122334455', bucket: 135, split128: 'secondary', split179: 'primary' },
    { key: '525400123456', bucket: 156, split128: 'secondary', split179: 'primary' },
    { key: '01001122334455', bucket: 223, split128: 'secondary', split179: 'secondary' },
    { key: 'ffffffffffff', bucket: 79, split128: 'primary', split179: 'primary' },
    { key: '0e', bucket: 232, split128: 'secondary', split179: 'secondary' },
  ];
  for (const v of vectors) {
    it(`${v.key} → ${v.bucket}`, () => {
      assert.equal(bucketOf(hex(v.key)), v.bucket);
      const isc = { polarity: 'set-is-primary' as const };
      assert.equal(serves(bucketMapForSplit(128), hex(v.key), { ...isc, role: 'primary' }), v.split128 === 'primary');
      assert.equal(serves(bucketMapForSplit(179), hex(v.key), { ...isc, role: 'primary' }), v.split179 === 'primary');
      assert.equal(serves(bucketMapForSplit(179), hex(v.key), { ...isc, role: 'secondary' }), v.split179 === 'secondary');
    });
  }
  it('empty key: length 0 → h = 0 with no mixing', () => assert.equal(bucketOf(new Uint8Array(0)), 0));
  it('is always in 0..255 and depends on byte order', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (k) => {
      const b = bucketOf(k);
      return Number.isInteger(b) && b >= 0 && b < 256;
    }));
    assert.notEqual(bucketOf(hex('0102')), bucketOf(hex('0201')));
  });
});

describe('requestKeyOf', () => {
  it('prefers the full client identifier', () => {
    assert.deepEqual(requestKeyOf({ clientId: hex('01001122334455'), chaddr: hex('001122334455') }), hex('01001122334455'));
  });
  it('falls back to chaddr when option 61 is absent or empty', () => {
    assert.deepEqual(requestKeyOf({ chaddr: hex('001122334455') }), hex('001122334455'));
    assert.deepEqual(requestKeyOf({ clientId: new Uint8Array(0), chaddr: hex('aa') }), hex('aa'));
  });
});

describe('bucket maps (digest §8.3)', () => {
  it('split 128 = 16 bytes ff then 16 bytes 00', () => {
    assert.equal(Buffer.from(bucketMapForSplit(128)).toString('hex'), 'ff'.repeat(16) + '00'.repeat(16));
  });
  it('split 179 = 22 bytes ff, 07, rest 00 (70 % primary)', () => {
    assert.equal(splitForPrimaryPercent(70), 179);
    assert.equal(Buffer.from(bucketMapForSplit(179)).toString('hex'), 'ff'.repeat(22) + '07' + '00'.repeat(9));
  });
  it('split 77 = 9 bytes ff, 1f, rest 00 (30 % primary)', () => {
    assert.equal(splitForPrimaryPercent(30), 77);
    assert.equal(Buffer.from(bucketMapForSplit(77)).toString('hex'), 'ff'.repeat(9) + '1f' + '00'.repeat(22));
  });
  it('split 256 = all ff; split 0 = all 00; out-of-range is clamped', () => {
    assert.equal(Buffer.from(bucketMapForSplit(256)).toString('hex'), 'ff'.repeat(32));
    assert.equal(Buffer.from(bucketMapForSplit(0)).toString('hex'), '00'.repeat(32));
    assert.equal(Buffer.from(bucketMapForSplit(999)).toString('hex'), 'ff'.repeat(32));
    assert.equal(Buffer.from(bucketMapForSplit(-3)).toString('hex'), '00'.repeat(32));
  });
  it('buckets < split are set (LSB first in each byte)', () => {
    const m = bucketMapForSplit(10);
    for (let b = 0; b < 256; b++) assert.equal(isBucketSet(m, b), b < 10, `bucket ${b}`);
    assert.deepEqual([...m.subarray(0, 2)], [0xff, 0x03]);
  });
  it('every bucket has exactly one owner, for both polarities and any map', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom<HbaPolarity>('set-is-primary', 'set-is-secondary'), (m, polarity) => {
      for (let b = 0; b < 256; b++) {
        if (ownsBucket(m, b, { role: 'primary', polarity }) === ownsBucket(m, b, { role: 'secondary', polarity })) return false;
      }
      return bucketCount(m, { role: 'primary', polarity }) + bucketCount(m, { role: 'secondary', polarity }) === 256;
    }));
  });
  it('bucketMapForPercent gives the primary the same buckets under either polarity', () => {
    for (const pct of [0, 30, 50, 70, 100]) {
      const isc = bucketMapForPercent(pct, 'set-is-primary');
      const draft = bucketMapForPercent(pct, 'set-is-secondary');
      assert.deepEqual(draft, invertMap(isc));
      assert.equal(bucketCount(isc, { role: 'primary', polarity: 'set-is-primary' }), splitForPrimaryPercent(pct));
      assert.equal(bucketCount(draft, { role: 'primary', polarity: 'set-is-secondary' }), splitForPrimaryPercent(pct));
    }
  });
});

describe('shouldAnswer', () => {
  const key = hex('001122334455'); // bucket 135
  const half = bucketMapForSplit(128);
  const base = { map: half, key, polarity: 'set-is-primary' as const, secs: 0, loadBalanceActive: true };
  it('in NORMAL only the bucket owner answers', () => {
    assert.equal(shouldAnswer({ ...base, role: 'primary' }), false);
    assert.equal(shouldAnswer({ ...base, role: 'secondary' }), true);
  });
  it('outside NORMAL (load balance inactive) everyone is answered', () => {
    assert.equal(shouldAnswer({ ...base, role: 'primary', loadBalanceActive: false }), true);
  });
  it('a client waiting longer than max seconds is answered by the non-owner', () => {
    assert.equal(shouldAnswer({ ...base, role: 'primary', secs: 3, maxSecs: 3 }), false);
    assert.equal(shouldAnswer({ ...base, role: 'primary', secs: 4, maxSecs: 3 }), true);
  });
  it('max seconds 0 disables load balancing (ISC)', () => {
    assert.equal(shouldAnswer({ ...base, role: 'primary', maxSecs: 0 }), true);
  });
  it('hot standby: the standby answers nobody in NORMAL, everybody once load balancing is off', () => {
    const standby = bucketMapForPercent(100, 'set-is-primary');
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 }), (k) =>
      !shouldAnswer({ map: standby, key: k, role: 'secondary', polarity: 'set-is-primary', secs: 0, loadBalanceActive: true })
      && shouldAnswer({ map: standby, key: k, role: 'primary', polarity: 'set-is-primary', secs: 0, loadBalanceActive: true })
      && shouldAnswer({ map: standby, key: k, role: 'secondary', polarity: 'set-is-primary', secs: 0, loadBalanceActive: false })));
  });
});
