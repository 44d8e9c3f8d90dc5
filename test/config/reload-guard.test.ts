import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideReload } from '../../src/config/reload-guard.ts';
import type { Config } from '../../src/config/schema.ts';
import { validateConfig } from '../../src/config/validate.ts';

const FAILOVER = { relationship: 'site-a', role: 'primary', address: '10.0.0.2', partner: { address: '10.0.0.3' }, mode: 'load-balance' };

/** A valid config with `scopes` (names; `!name` = inactive), built through validateConfig as the server builds it. */
function config(scopes: string[], extra: { allowEmptyScopes?: unknown; failover?: boolean } = {}): Config {
  return validateConfig({
    server: { name: 'dhcp-a', listen: { address: '127.0.0.1' } },
    scopes: scopes.map((s, i) => ({
      name: s.replace(/^!/, ''), subnet: `10.${i + 1}.0.0/24`, ranges: [{ start: `10.${i + 1}.0.10`, end: `10.${i + 1}.0.20` }],
      ...(s.startsWith('!') && { active: false }),
    })),
    ...('allowEmptyScopes' in extra && { allowEmptyScopes: extra.allowEmptyScopes }),
    ...(extra.failover && { failover: FAILOVER }),
  });
}

interface Case { name: string; running: Config; next: Config; expected: 'accept' | { runningScopes: number; newScopes: number } }

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
];

describe('decideReload', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const d = decideReload(c.running, c.next);
      if (c.expected === 'accept') { assert.deepEqual(d, { kind: 'accept' }); return; }
      assert.equal(d.kind, 'refuse');
      if (d.kind !== 'refuse') return;
      assert.deepEqual({ reason: d.reason, runningScopes: d.runningScopes, newScopes: d.newScopes }, { reason: 'empty_scopes', ...c.expected });
      assert.match(d.message, /allowEmptyScopes: true/, 'says what to set to allow it');
    });
  }

  it('names the failover relationship whose scopes would go', () => {
    const d = decideReload(config(['a'], { failover: true }), config([], { failover: true }));
    assert.ok(d.kind === 'refuse' && /relationship "site-a"/.test(d.message), JSON.stringify(d));
  });

  it('is pure: the same inputs give the same decision and are not changed', () => {
    const running = config(['a']), next = config([]);
    assert.deepEqual(decideReload(running, next), decideReload(running, next));
    assert.ok(Object.isFrozen(running) && Object.isFrozen(next));
  });
});
