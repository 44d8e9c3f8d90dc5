import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideReload } from '../../src/config/reload-guard.ts';
import type { Config } from '../../src/config/schema.ts';
import { validateConfig } from '../../src/config/validate.ts';

const FAILOVER = { relationship: 'site-a', role: 'primary', address: '10.0.0.2', partner: { address: '10.0.0.3' }, mode: 'load-balance' };
/** Relationship `name` of a hub (own address 10.0.0.2) with the partner 10.0.0.<3 + index>. */
const relationship = (name: string, index: number) => ({ ...FAILOVER, relationship: name, partner: { address: `10.0.0.${3 + index}` } });

/**
 * A valid config with `scopes` (names; `!name` = inactive, `name@rel` = `relationship: rel`), built through
 * validateConfig as the server builds it. `failover: true`: the one-relationship mapping form; `relationships`: the list form.
 */
function config(scopes: string[], extra: { allowEmptyScopes?: unknown; failover?: boolean; relationships?: string[] } = {}): Config {
  return validateConfig({
    server: { name: 'dhcp-a', listen: { address: '127.0.0.1' } },
    scopes: scopes.map((s, i) => {
      const [name = '', rel] = s.replace(/^!/, '').split('@');
      return {
        name, subnet: `10.${i + 1}.0.0/24`, ranges: [{ start: `10.${i + 1}.0.10`, end: `10.${i + 1}.0.20` }],
        ...(s.startsWith('!') && { active: false }), ...(rel !== undefined && { relationship: rel }),
      };
    }),
    ...('allowEmptyScopes' in extra && { allowEmptyScopes: extra.allowEmptyScopes }),
    ...(extra.failover && { failover: FAILOVER }),
    ...(extra.relationships && { failover: extra.relationships.map(relationship) }),
  });
}
const HUB = { relationships: ['a', 'b'] };

interface Case { name: string; running: Config; next: Config; expected: 'accept' | { runningScopes: number; newScopes: number; relationship?: string } }

const CASES: Case[] = [
  { name: 'scopes → no scopes: refused', running: config(['a', 'b']), next: config([]), expected: { runningScopes: 2, newScopes: 0 } },
  { name: 'failover pair, scopes → no scopes: refused', running: config(['a'], { failover: true }), next: config([], { failover: true }), expected: { runningScopes: 1, newScopes: 0 } },
  { name: 'counts only the scopes served (active)', running: config(['a', '!b', 'c']), next: config([]), expected: { runningScopes: 2, newScopes: 0 } },
  { name: 'the new file drops the failover section too: still refused', running: config(['a'], { failover: true }), next: config([]), expected: { runningScopes: 1, newScopes: 0 } },
  { name: 'allowEmptyScopes: true in the new file: accepted', running: config(['a', 'b']), next: config([], { allowEmptyScopes: true }), expected: 'accept' },
  { name: 'allowEmptyScopes: true, failover pair: accepted', running: config(['a'], { failover: true }), next: config([], { allowEmptyScopes: true, failover: true }), expected: 'accept' },
  { name: 'allowEmptyScopes only in the running file does not carry over', running: config(['a'], { allowEmptyScopes: true }), next: config([]), expected: { runningScopes: 1, newScopes: 0 } },
  { name: 'allowEmptyScopes: false said explicitly: refused', running: config(['a']), next: config([], { allowEmptyScopes: false }), expected: { runningScopes: 1, newScopes: 0 } },
  { name: 'no scopes served now (empty at first start): accepted', running: config([]), next: config([]), expected: 'accept' },
  { name: 'no scope served now (all inactive): accepted', running: config(['!a', '!b']), next: config([]), expected: 'accept' },
  { name: 'nothing served → scopes: accepted', running: config([]), next: config(['a']), expected: 'accept' },
  { name: 'fewer scopes, not none: accepted', running: config(['a', 'b', 'c']), next: config(['a']), expected: 'accept' },
  { name: 'other scopes entirely (renamed): accepted', running: config(['a']), next: config(['z']), expected: 'accept' },
  { name: 'every scope kept but marked inactive: accepted (a choice per scope)', running: config(['a', 'b']), next: config(['!a', '!b']), expected: 'accept' },
  { name: 'unchanged: accepted', running: config(['a']), next: config(['a']), expected: 'accept' },
  { name: 'one relationship, the failover section dropped but scopes kept: accepted', running: config(['a'], { failover: true }), next: config(['a']), expected: 'accept' },
  // Several relationships: each one the file still holds is guarded on its own.
  { name: 'hub, scopes → no scopes: refused', running: config(['x@a', 'y@b'], HUB), next: config([], HUB), expected: { runningScopes: 2, newScopes: 0 } },
  { name: 'hub, one relationship loses every scope: refused', running: config(['x@a', 'y@b', 'z@b'], HUB), next: config(['x@a'], HUB), expected: { runningScopes: 2, newScopes: 0, relationship: 'b' } },
  { name: 'hub, one relationship loses every scope to none: refused', running: config(['x@a', 'y@b'], HUB), next: config(['x@a', 'y@none'], HUB), expected: { runningScopes: 1, newScopes: 0, relationship: 'b' } },
  { name: 'hub, one relationship loses every scope, allowEmptyScopes: true: accepted', running: config(['x@a', 'y@b'], HUB), next: config(['x@a'], { ...HUB, allowEmptyScopes: true }), expected: 'accept' },
  { name: 'hub, a relationship dropped with its scopes: accepted', running: config(['x@a', 'y@b'], HUB), next: config(['x@a'], { relationships: ['a'] }), expected: 'accept' },
  { name: 'hub, a relationship that served no active scope: accepted', running: config(['x@a', '!y@b'], HUB), next: config(['x@a'], HUB), expected: 'accept' },
  { name: 'hub, every relationship keeps a scope, standalone scope dropped: accepted', running: config(['x@a', 'y@b', 's@none'], HUB), next: config(['x@a', 'y@b'], HUB), expected: 'accept' },
  { name: 'hub, fewer scopes per relationship, not none: accepted', running: config(['x@a', 'w@a', 'y@b'], HUB), next: config(['x@a', 'y@b'], HUB), expected: 'accept' },
];

describe('decideReload', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const d = decideReload(c.running, c.next);
      if (c.expected === 'accept') { assert.deepEqual(d, { kind: 'accept' }); return; }
      assert.equal(d.kind, 'refuse');
      if (d.kind !== 'refuse') return;
      assert.deepEqual({ reason: d.reason, runningScopes: d.runningScopes, newScopes: d.newScopes, relationship: d.relationship }, { reason: 'empty_scopes', relationship: undefined, ...c.expected });
      assert.match(d.message, /allowEmptyScopes: true/, 'says what to set to allow it');
    });
  }

  it('names the failover relationship whose scopes would go', () => {
    const d = decideReload(config(['a'], { failover: true }), config([], { failover: true }));
    assert.ok(d.kind === 'refuse' && /relationship "site-a"/.test(d.message), JSON.stringify(d));
  });

  it('names every relationship when the whole list goes, and the one whose scopes go', () => {
    const all = decideReload(config(['x@a', 'y@b'], HUB), config([], HUB));
    assert.ok(all.kind === 'refuse' && /lists no scope, .*relationships "a", "b"/.test(all.message), JSON.stringify(all));
    const one = decideReload(config(['x@a', 'y@b'], HUB), config(['x@a'], HUB));
    assert.ok(one.kind === 'refuse' && /lists no scope of failover relationship "b"/.test(one.message), JSON.stringify(one));
  });

  it('one relationship: the message is the one it always was', () => {
    const d = decideReload(config(['a', 'b'], { failover: true }), config([], { failover: true }));
    assert.equal(d.kind === 'refuse' && d.message, 'the new file lists no scope, which would stop serving all 2 scope(s) of failover relationship "site-a"; '
      + 'keeping the running config (set allowEmptyScopes: true in the file if that is intended)');
  });

  it('is pure: the same inputs give the same decision and are not changed', () => {
    const running = config(['a']), next = config([]);
    assert.deepEqual(decideReload(running, next), decideReload(running, next));
    assert.ok(Object.isFrozen(running) && Object.isFrozen(next));
  });
});
