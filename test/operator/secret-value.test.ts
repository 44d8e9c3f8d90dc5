// The relationship's admin token from its Secret: read by GET once per resourceVersion the (metadata-only)
// watch shows, the previous value kept for the kubelet's volume swap, the last value kept through a failed GET.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecretValueCache, tokenFromSecret, type SecretRead } from '../../src/operator/secret-value.ts';
import type { DhcpFailoverRelationship } from '../../src/operator/render/types.ts';

const rel = (ref?: { name: string; key?: string }): DhcpFailoverRelationship => ({
  apiVersion: 'dhcp.failover.dev/v1alpha1', kind: 'DhcpFailoverRelationship', metadata: { name: 'r', namespace: 'n' },
  spec: { mode: 'loadBalance', servers: [], ...(ref !== undefined ? { sharedSecretRef: ref } : {}) } as unknown as DhcpFailoverRelationship['spec'],
});
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A Secret store whose metadata and GETs the test controls and counts. */
function fakeSecrets() {
  const state = { rv: '1' as string | undefined, present: true, data: { secret: b64('one\n'), other: b64('x') } as Record<string, string>, fail: false, gets: 0 };
  const cache = new SecretValueCache({
    metadata: (ns, name) => (state.present && ns === 'n' && name === 's' ? { resourceVersion: state.rv } : undefined),
    read: async (): Promise<SecretRead> => {
      state.gets++;
      await new Promise((r) => setImmediate(r));
      if (state.fail) throw new Error('secrets "s" is forbidden');
      return state.present ? { data: { ...state.data } } : undefined;
    },
  });
  return { state, cache };
}

describe('tokenFromSecret', () => {
  it('decodes the key the server config names, trimmed; empty or absent is no token', () => {
    assert.equal(tokenFromSecret(rel({ name: 's' }), { data: { secret: b64(' tok\n') } }), 'tok');
    assert.equal(tokenFromSecret(rel({ name: 's', key: 'admin' }), { data: { secret: b64('a'), admin: b64('b') } }), 'b');
    assert.equal(tokenFromSecret(rel({ name: 's' }), { data: { secret: b64(' \n') } }), undefined);
    assert.equal(tokenFromSecret(rel({ name: 's' }), { data: {} }), undefined);
    assert.equal(tokenFromSecret(rel({ name: 's' }), undefined), undefined);
  });
});

describe('SecretValueCache', () => {
  it('reads once per resourceVersion, however often and however concurrently it is asked', async () => {
    const { state, cache } = fakeSecrets();
    const r = rel({ name: 's' });
    const all = await Promise.all([cache.tokenFor(r), cache.tokenFor(r), cache.tokenFor(r)]);
    assert.deepEqual(all, [{ token: 'one' }, { token: 'one' }, { token: 'one' }]);
    for (let i = 0; i < 5; i++) await cache.tokenFor(r);
    assert.equal(state.gets, 1);
    // The value changes without the watch saying so: not re-read (the watch is the trigger).
    state.data.secret = b64('sneaky');
    assert.deepEqual(await cache.tokenFor(r), { token: 'one' });
    assert.equal(state.gets, 1);
  });

  it('a new resourceVersion is read again, and the value before it kept as `previous`', async () => {
    const { state, cache } = fakeSecrets();
    const r = rel({ name: 's' });
    await cache.tokenFor(r);
    state.rv = '2'; state.data.secret = b64('two');
    assert.deepEqual(await cache.tokenFor(r), { token: 'two', previous: 'one' });
    assert.equal(state.gets, 2);
    state.rv = '3'; state.data.other = b64('y'); // another key changed: same token, previous stays
    assert.deepEqual(await cache.tokenFor(r), { token: 'two', previous: 'one' });
    state.rv = '4'; state.data.secret = b64('three');
    assert.deepEqual(await cache.tokenFor(r), { token: 'three', previous: 'two' });
    assert.equal(state.gets, 4);
  });

  it('a failed GET keeps the last value; with none known it rejects', async () => {
    const { state, cache } = fakeSecrets();
    const r = rel({ name: 's' });
    state.fail = true;
    await assert.rejects(cache.tokenFor(r), /forbidden/);
    state.fail = false;
    assert.deepEqual(await cache.tokenFor(r), { token: 'one' });
    state.rv = '2'; state.data.secret = b64('two'); state.fail = true;
    assert.deepEqual(await cache.tokenFor(r), { token: 'one' });
    state.fail = false;
    assert.deepEqual(await cache.tokenFor(r), { token: 'two', previous: 'one' }, 'retried at the next ask');
  });

  it('no sharedSecretRef, or no such key: no token; a Secret gone from the watch keeps its last value', async () => {
    const { state, cache } = fakeSecrets();
    assert.equal(await cache.tokenFor(rel()), undefined);
    assert.equal(await cache.tokenFor(rel({ name: 's', key: 'missing' })), undefined);
    assert.equal(await cache.tokenFor(rel({ name: 'not-there' })), undefined);
    assert.equal(state.gets, 1, 'only the Secret the watch shows is read');
    await cache.tokenFor(rel({ name: 's' }));
    state.present = false;
    assert.deepEqual(await cache.tokenFor(rel({ name: 's' })), { token: 'one' }, 'the servers keep their mounted file too');
  });
});
