// Pool ownership by position (src/failover/rules/address-ownership.ts): a property test over random pools
// (ranges, exclusions, reservations), shares and both roles.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ownerIn, schemeOf, secondaryCountOf, storeScheme, loadScheme, layoutOf } from '../../../src/failover/rules/address-ownership.ts';
import { planScope } from '../../../src/dhcp/pool.ts';
import { parseIpv4 } from '../../../src/net/ipv4.ts';
import type { Scope } from '../../../src/config/schema.ts';

const scope = (ranges: { start: number; end: number }[], exclusions: { start: number; end: number }[], reserved: number[]): Scope => ({
  name: 'lab', subnet: { network: 0, prefix: 0 } as unknown as Scope['subnet'], ranges, exclusions,
  reservations: reserved.map((ip, i) => ({ ip, hw: `1:${i}` }) as unknown as Scope['reservations'][number]),
  options: new Map(), leaseSeconds: 600, active: true,
});

const poolArb = fc.record({
  start: fc.integer({ min: 0x0a000000, max: 0x0affff00 }),
  ranges: fc.array(fc.record({ off: fc.integer({ min: 0, max: 300 }), len: fc.integer({ min: 1, max: 120 }) }), { minLength: 1, maxLength: 4 }),
  exclusions: fc.array(fc.record({ off: fc.integer({ min: 0, max: 400 }), len: fc.integer({ min: 1, max: 10 }) }), { maxLength: 3 }),
  reserved: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 5 }),
  percent: fc.integer({ min: 0, max: 100 }),
});

describe('pool ownership by position', () => {
  it('property: every pool splits within one address of the share, each side with at least one when its share > 0 and n ≥ 2', () => {
    fc.assert(fc.property(poolArb, (g) => {
      const plan = planScope(scope(
        g.ranges.map((r) => ({ start: g.start + r.off, end: g.start + r.off + r.len - 1 })),
        g.exclusions.map((r) => ({ start: g.start + r.off, end: g.start + r.off + r.len - 1 })),
        g.reserved.map((o) => g.start + o),
      ));
      const scheme = schemeOf(layoutOf([plan]), g.percent);
      let primary = 0, secondary = 0, dynamic = 0;
      for (const r of plan.intervals) {
        for (let ip = r.start; ip <= r.end; ip++) {
          const o = ownerIn(scheme, ip);
          if (plan.reservedIps.has(ip)) { assert.equal(o, 'either'); continue; }
          dynamic++;
          if (o === 'primary') primary++; else if (o === 'secondary') secondary++; else assert.fail(`no owner for a pool address: ${o}`);
        }
      }
      assert.equal(primary + secondary, dynamic);
      assert.ok(Math.abs(secondary - (dynamic * g.percent) / 100) <= 1, `secondary ${secondary} of ${dynamic} at ${g.percent} %`);
      if (dynamic >= 2 && g.percent > 0) assert.ok(secondary >= 1);
      if (dynamic >= 2 && g.percent < 100) assert.ok(primary >= 1);
      // below the pool: nobody's, unless reserved (then either server's, for its one client)
      const below = (plan.intervals[0]?.start ?? g.start) - 1;
      assert.equal(ownerIn(scheme, below), plan.reservedIps.has(below) ? 'either' : undefined);
      // persisted form gives the same scheme
      assert.equal(loadScheme(JSON.parse(JSON.stringify(storeScheme(scheme)))).fingerprint, scheme.fingerprint);
    }), { numRuns: 400 });
  });

  it('the 20-address pool of the issue: 10 each at 50/50; the 5 % reserve is one address', () => {
    const plan = planScope(scope([{ start: parseIpv4('10.99.0.26'), end: parseIpv4('10.99.0.45') }], [], []));
    const count = (p: number, who: string): number => Array.from({ length: 20 }, (_, i) => ownerIn(schemeOf(layoutOf([plan]), p), parseIpv4('10.99.0.26') + i)).filter((o) => o === who).length;
    assert.equal(count(50, 'secondary'), 10);
    assert.equal(count(5, 'secondary'), 1);
    assert.equal(count(5, 'primary'), 19);
  });

  it('the secondary count: rounding, at least one each, the edges', () => {
    assert.deepEqual([0, 1, 2, 3, 20, 100].map((n) => secondaryCountOf(n, 5)), [0, 0, 1, 1, 1, 5]);
    assert.deepEqual([1, 2, 3].map((n) => secondaryCountOf(n, 99)), [1, 1, 2]);
    assert.equal(secondaryCountOf(10, 0), 0);
    assert.equal(secondaryCountOf(10, 100), 10);
  });

  it('the fingerprint ignores scope names and order, and changes with the share or the layout', () => {
    const a = planScope(scope([{ start: 100, end: 120 }], [], []));
    const b = planScope(scope([{ start: 200, end: 220 }], [], [205]));
    const f = (plans: typeof a[], p: number): string => schemeOf(layoutOf(plans), p).fingerprint;
    assert.equal(f([a, b], 50), f([b, a], 50));
    assert.notEqual(f([a, b], 50), f([a, b], 40));
    assert.notEqual(f([a, b], 50), f([a, planScope(scope([{ start: 200, end: 220 }], [], []))], 50));
  });
});
