// FailoverRelationships.reconfigure (src/failover/runtime/relationships.ts): what a reload of a hub may
// change in place (a relationship added or removed, new scopes, each relationship's own section) and
// what waits for a restart (a scope moving between relationships, or to or from none, and a relationship
// such a scope still holds). Peers run on a FakeClock in STARTUP; sockets are real (127.0.0.x partners).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { validateConfig } from '../../../src/config/validate.ts';
import type { FailoverRelationships } from '../../../src/failover/runtime/relationships.ts';
import { ip } from '../../fakes/dhcp-builders.ts';
import { freePort } from '../../fakes/ports.ts';
import { blockPort, commit, discover, firstMessage, hub, hubOf as startHub, lease, NOW as now, queued, relationship, scope, type Raw } from './hub-helpers.ts';

const running: FailoverRelationships[] = [];
after(async () => { for (const r of running) await r.stop(); });
const hubOf = (raw: Raw) => startHub(running, raw);
const ok = () => ({ ok: true as const, value: undefined });

/** The hub of hub-helpers.ts as primary in both relationships: a partner connecting gets a CONNECT naming the one it reached. */
function primaries(port: number): Raw {
  const raw = hub(port);
  for (const r of raw.failover) r.role = 'primary';
  return raw;
}

describe('FailoverRelationships.reconfigure: relationships added and removed', () => {
  it('the same config: nothing to restart, the same peers', async () => {
    const port = await freePort();
    const { rels } = await hubOf(hub(port));
    const before = [...rels.peers.values()];
    assert.deepEqual(await rels.reconfigure(validateConfig(hub(port)), ok), []);
    assert.deepEqual([...rels.peers.values()], before);
  });

  it('a new relationship starts at once on the shared listener; its scope follows its rules; the others are untouched', async () => {
    const port = await freePort();
    const { rels, engine, policy, setPlans } = await hubOf(primaries(port));
    const [b1, b2] = [rels.peers.get('b1'), rels.peers.get('b2')];
    const raw = primaries(port);
    raw.failover.push(relationship('b3', 4, port, { role: 'primary' }));
    raw.scopes.push(scope('b3', 4, 'b3'));
    const next = validateConfig(raw);
    assert.equal(await firstMessage('127.0.0.4', port), 'closed', 'before: nobody has this partner');
    assert.deepEqual(await rels.reconfigure(next, ok), []);
    setPlans(next);
    assert.deepEqual([...rels.peers.keys()], ['b1', 'b2', 'b3']);
    assert.equal(rels.peers.get('b3')!.snapshot.state, 'startup');
    assert.equal(await firstMessage('127.0.0.4', port), 'CONNECT b3');
    assert.equal(await firstMessage('127.0.0.2', port), 'CONNECT b1');
    assert.ok(rels.peers.get('b1') === b1 && rels.peers.get('b2') === b2, 'b1 and b2 keep running as they were');
    assert.equal(policy.mayAnswer?.(discover('b3'), now), false, 'b3 in STARTUP');
    await commit(rels, engine, lease('10.4.0.10', 'b3'));
    assert.deepEqual([queued(rels, 'b1'), queued(rels, 'b2'), queued(rels, 'b3')], [0, 0, 1]);
    assert.equal(rels.peerFor('b3'), rels.peers.get('b3'));
  });

  it('a new relationship that cannot listen: restart-required, its scope served by nobody; the next reload starts it', async () => {
    const [port, taken] = [await freePort(), await freePort()];
    const { rels, policy, setPlans } = await hubOf(hub(port));
    const raw = hub(port);
    raw.failover.push(relationship('b3', 4, taken));
    raw.scopes.push(scope('b3', 4, 'b3'));
    const next = validateConfig(raw);
    const blocker = await blockPort(taken);
    try {
      const restart = await rels.reconfigure(next, ok);
      assert.equal(restart.length, 1);
      assert.match(restart[0] ?? '', new RegExp(`^failover \\(relationship b3 could not start: cannot listen on 127\\.0\\.0\\.1:${taken} `));
    } finally {
      await blocker.close();
    }
    setPlans(next);
    assert.equal(rels.peers.has('b3'), false);
    const b3Lease = lease('10.4.0.10', 'b3');
    assert.equal(policy.mayAnswer?.(discover('b3'), now), false);
    assert.equal(policy.mayAllocate(ip('10.4.0.11'), undefined, now), false);
    assert.equal(policy.mayRebind?.(b3Lease.ip, b3Lease, now), false, 'not served as standalone');
    assert.equal(policy.mayAnswer?.(discover('lab'), now), true, 'the standalone scope, for contrast');
    assert.deepEqual(await rels.reconfigure(next, ok), [], 'the port is free now');
    assert.equal(rels.peers.get('b3')?.snapshot.state, 'startup');
  });

  it('a new relationship whose secret cannot be read is not started', async () => {
    const port = await freePort();
    const { rels } = await hubOf(hub(port));
    const raw = hub(port);
    raw.failover.push(relationship('b3', 4, port, { sharedSecretFile: '/nonexistent/b3' }));
    raw.scopes.push(scope('b3', 4, 'b3'));
    const restart = await rels.reconfigure(validateConfig(raw), (r) => (r.relationship === 'b3' ? { ok: false } : ok()));
    assert.deepEqual(restart, ['failover b3: sharedSecretFile unreadable (the running settings stay)']);
    assert.equal(rels.peers.has('b3'), false);
  });

  it('a removed relationship whose scope is gone is stopped: its partner is refused, the other relationship keeps the listener', async () => {
    const port = await freePort();
    const { rels } = await hubOf(primaries(port));
    assert.equal(await firstMessage('127.0.0.3', port), 'CONNECT b2');
    const raw = primaries(port);
    raw.failover = [raw.failover[0]];
    raw.scopes = [raw.scopes[0], raw.scopes[2]];
    assert.deepEqual(await rels.reconfigure(validateConfig(raw), ok), []);
    assert.deepEqual([...rels.peers.keys()], ['b1']);
    assert.equal(await firstMessage('127.0.0.3', port), 'closed', 'b1 alone on the listener: its transport refuses b2\'s partner');
    assert.equal(await firstMessage('127.0.0.2', port), 'CONNECT b1');
    assert.equal(rels.peerFor(undefined), rels.peers.get('b1'), 'one relationship left: the name may be left out');
  });

  it('a relationship replaced by another with the same partner in one reload: the old one lets go of the partner first', async () => {
    const port = await freePort();
    const { rels } = await hubOf(primaries(port));
    const raw = primaries(port);
    raw.failover[1] = relationship('b2-new', 3, port, { role: 'primary' });
    raw.scopes[1] = scope('b2-new', 2, 'b2-new');
    assert.deepEqual(await rels.reconfigure(validateConfig(raw), ok), []);
    assert.deepEqual([...rels.peers.keys()], ['b1', 'b2-new']);
    assert.equal(await firstMessage('127.0.0.3', port), 'CONNECT b2-new');
  });

  it('a removed relationship that a scope still uses (the scope moved to none) keeps running until the restart', async () => {
    const port = await freePort();
    const { rels, engine, policy } = await hubOf(hub(port));
    const raw = hub(port);
    raw.failover = [raw.failover[0]];
    raw.scopes[1].relationship = 'none';
    assert.deepEqual(await rels.reconfigure(validateConfig(raw), ok), [
      'scopes.b2.relationship (b2 → none)', 'failover (relationship b2 removed while a scope still uses it)',
    ]);
    assert.equal(rels.peers.get('b2')?.snapshot.state, 'startup');
    const l = await commit(rels, engine, lease('10.2.0.10', 'b2'));
    assert.equal(l.pendingAck, true, 'still b2\'s until the restart');
    assert.deepEqual([queued(rels, 'b1'), queued(rels, 'b2')], [0, 1]);
    assert.equal(policy.mayAnswer?.(discover('b2'), now), false, 'served by b2\'s rules (STARTUP), not as standalone');
  });
});

describe('FailoverRelationships.reconfigure: scopes', () => {
  it('a scope moved between relationships: restart required, its running relationship keeps it', async () => {
    const port = await freePort();
    const { rels, engine, policy } = await hubOf(hub(port));
    const raw = hub(port);
    raw.scopes[0].relationship = 'b2';
    assert.deepEqual(await rels.reconfigure(validateConfig(raw), ok), ['scopes.b1.relationship (b1 → b2)']);
    await commit(rels, engine, lease('10.1.0.10', 'b1'));
    assert.deepEqual([queued(rels, 'b1'), queued(rels, 'b2')], [1, 0]);
    assert.equal(policy.mayAnswer?.(discover('b1'), now), false);
    assert.deepEqual(await rels.reconfigure(validateConfig(raw), ok), ['scopes.b1.relationship (b1 → b2)'], 'still pending at the next reload');
  });

  it('a standalone scope moved into a relationship stays standalone until the restart', async () => {
    const port = await freePort();
    const { rels, policy } = await hubOf(hub(port));
    const raw = hub(port);
    raw.scopes[2].relationship = 'b1';
    assert.deepEqual(await rels.reconfigure(validateConfig(raw), ok), ['scopes.lab.relationship (none → b1)']);
    assert.equal(policy.mayAnswer?.(discover('lab'), now), true);
    const l = lease('10.3.0.10', 'lab');
    assert.equal(rels.prepareCommit(l), l);
  });

  it('a new scope takes its relationship at once; a new standalone scope is served at once', async () => {
    const port = await freePort();
    const { rels, engine, policy, setPlans } = await hubOf(hub(port));
    const raw = hub(port);
    raw.scopes.push(scope('b1-more', 5, 'b1'), scope('lab-more', 6, 'none'));
    const next = validateConfig(raw);
    assert.deepEqual(await rels.reconfigure(next, ok), []);
    setPlans(next);
    assert.equal(policy.mayAnswer?.(discover('b1-more'), now), false, 'b1 in STARTUP');
    assert.equal(policy.mayAllocate(ip('10.5.0.10'), undefined, now), false);
    assert.equal(policy.mayAnswer?.(discover('lab-more'), now), true);
    assert.equal(policy.mayAllocate(ip('10.6.0.10'), undefined, now), true);
    await commit(rels, engine, lease('10.5.0.10', 'b1-more'));
    assert.deepEqual([queued(rels, 'b1'), queued(rels, 'b2')], [1, 0]);
  });

  it('a scope the reload removed is served by nobody while the engine still has it, even a standalone one', async () => {
    const port = await freePort();
    const { rels, policy } = await hubOf(hub(port));
    const raw = hub(port);
    raw.scopes = [raw.scopes[0], raw.scopes[1]];
    assert.deepEqual(await rels.reconfigure(validateConfig(raw), ok), []);
    // The policy still reads the old plans (the engine applies the new config after reconfigure).
    assert.equal(policy.mayAnswer?.(discover('lab'), now), false);
    assert.equal(policy.mayAllocate(ip('10.3.0.10'), undefined, now), false);
  });
});

describe('FailoverRelationships.reconfigure: each relationship\'s own section', () => {
  it('identity changes need a restart and are not applied; an unreadable secret keeps the running settings', async () => {
    const port = await freePort();
    const { rels } = await hubOf(hub(port));
    const raw = hub(port);
    raw.failover[1].role = 'primary';
    const restart = await rels.reconfigure(validateConfig(raw), ok);
    assert.equal(restart.length, 1);
    assert.match(restart[0] ?? '', /role/);
    assert.equal(rels.peers.get('b2')!.config.role, 'secondary');
    const unreadable = await rels.reconfigure(validateConfig(hub(port)), (r) => (r.relationship === 'b1' ? { ok: false } : ok()));
    assert.deepEqual(unreadable, ['failover b1: sharedSecretFile unreadable (the running settings stay)']);
  });

  it('a change that applies in place reaches only the relationship it is in', async () => {
    const port = await freePort();
    const { rels } = await hubOf(hub(port));
    const raw = hub(port);
    raw.failover[0].mcltSeconds = 120;
    assert.deepEqual(await rels.reconfigure(validateConfig(raw), ok), []);
    assert.deepEqual([rels.peers.get('b1')!.config.mcltSeconds, rels.peers.get('b2')!.config.mcltSeconds], [120, 3600]);
  });

  it('a restart-required entry says which relationship it is about (the list path and the name)', async () => {
    const port = await freePort();
    const { rels } = await hubOf(hub(port));
    const raw = hub(port);
    raw.failover[1].role = 'primary';
    const [entry] = await rels.reconfigure(validateConfig(raw), ok);
    assert.equal(entry, 'failover[1].role (b2)');
  });
});
