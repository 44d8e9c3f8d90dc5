import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Lease } from '../../../src/leases/lease.ts';
import { UpdateQueue } from '../../../src/failover/runtime/update-queue.ts';

const lease = (ip: number, cltt = 0): Lease => ({ ip, scope: 's', state: 'active', hw: '1:aabbccddeeff', expiresAt: 1000, cltt });

describe('UpdateQueue', () => {
  it('never has more unacked than the window', () => {
    const q = new UpdateQueue({ window: 3 });
    for (let i = 1; i <= 10; i++) q.enqueue(lease(i));
    const first = q.takeSendable();
    assert.deepEqual(first.map((e) => e.ip), [1, 2, 3]);
    first.forEach((e, n) => q.markSent(e, 100 + n, 0));
    assert.deepEqual(q.takeSendable(), [], 'window full');
    assert.equal(q.ack(101)?.ip, 2);
    assert.deepEqual(q.takeSendable().map((e) => e.ip), [4]);
    assert.equal(q.pendingCount, 6);
    assert.equal(q.inflightCount, 2);
  });

  it('window 0 sends nothing (ISC without max-unacked)', () => {
    const q = new UpdateQueue({ window: 0 });
    q.enqueue(lease(1));
    assert.deepEqual(q.takeSendable(), []);
  });

  it('newer news replaces unsent news in place; one in flight per address', () => {
    const q = new UpdateQueue({ window: 10 });
    q.enqueue(lease(1, 1)); q.enqueue(lease(2, 1)); q.enqueue(lease(1, 2));
    const sent = q.takeSendable();
    assert.deepEqual(sent.map((e) => [e.ip, e.lease.cltt]), [[1, 2], [2, 1]]);
    q.markSent(sent[0]!, 7, 0);
    q.enqueue(lease(1, 3));
    assert.deepEqual(q.takeSendable(), [], 'address 1 waits for its ack');
    assert.equal(q.ack(7, 1)?.lease.cltt, 2);
    assert.deepEqual(q.takeSendable().map((e) => e.lease.cltt), [3]);
  });

  it('ignores a BNDACK with an unknown xid or for another address', () => {
    const q = new UpdateQueue({ window: 2 });
    q.enqueue(lease(1));
    q.markSent(q.takeSendable()[0]!, 5, 0);
    assert.equal(q.ack(6), undefined);
    assert.equal(q.ack(5, 2), undefined);
    assert.equal(q.inflightCount, 1);
  });

  it('requeues unacked updates first on disconnect, dropping ones superseded by newer news', () => {
    const q = new UpdateQueue({ window: 2 });
    q.enqueue(lease(1, 1)); q.enqueue(lease(2, 1)); q.enqueue(lease(3, 1));
    const sent = q.takeSendable();
    sent.forEach((e, n) => q.markSent(e, n + 1, 0));
    q.enqueue(lease(2, 9));
    assert.equal(q.requeueInflight(), 2);
    assert.equal(q.inflightCount, 0);
    q.setWindow(10);
    assert.deepEqual(q.takeSendable().map((e) => [e.ip, e.lease.cltt]), [[1, 1], [3, 1], [2, 9]]);
  });

  it('property: inflight ≤ window, and every enqueued address is eventually sent exactly with its newest lease', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.nat(100), fc.boolean()), { maxLength: 60 }), (window, ops) => {
      const q = new UpdateQueue({ window });
      const newest = new Map<number, number>();
      const delivered = new Map<number, number>();
      let xid = 0;
      const pump = (): void => { for (const e of q.takeSendable()) q.markSent(e, ++xid, 0); assert.ok(q.inflightCount <= window); };
      for (const [ip, cltt, ackFirst] of ops) {
        if (ackFirst && xid > 0) { const f = q.ack(xid); if (f) delivered.set(f.ip, f.lease.cltt); }
        q.enqueue(lease(ip, cltt)); newest.set(ip, cltt); pump();
      }
      for (let guard = 0; guard < 200 && !q.idle; guard++) {
        for (let x = 1; x <= xid; x++) { const f = q.ack(x); if (f) delivered.set(f.ip, f.lease.cltt); }
        pump();
      }
      assert.ok(q.idle);
      assert.deepEqual(new Map([...delivered].sort()), new Map([...newest].sort()));
    }), { numRuns: 200 });
  });
});
