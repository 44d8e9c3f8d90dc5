// The fuzz harness itself: the checker must flag what the decoders must never do, and the mutators
// must actually reach the whole input (a position generator stuck at 0 once made them useless).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/errors.ts';
import { FuzzViolation, applyByteMutation, applyTreeMutation, loadHexCorpus, loadTextCorpus, mutatedSeed, mutatedTree, pos, runProperty, treePaths, typedOutcome } from './harness.ts';

const ALLOWED = [{ type: DecodeError, codes: ['truncated'] }];

describe('fuzz harness', () => {
  it('typedOutcome passes values and allowed typed errors through', () => {
    assert.deepEqual((typedOutcome('ok', () => 7, ALLOWED) as { value: number }).value, 7);
    const r = typedOutcome('typed', () => { throw new DecodeError('truncated', 'x'); }, ALLOWED);
    assert.ok(!r.ok && r.error instanceof DecodeError);
  });
  it('typedOutcome flags untyped errors, unexpected codes, non-Error throws and slow calls', () => {
    assert.throws(() => typedOutcome('t', () => { throw new TypeError('boom'); }, ALLOWED), FuzzViolation);
    assert.throws(() => typedOutcome('t', () => { throw new RangeError('boom'); }, ALLOWED), FuzzViolation);
    assert.throws(() => typedOutcome('t', () => { throw new DecodeError('bad_magic_cookie', 'x'); }, ALLOWED), /unexpected code/);
    assert.throws(() => typedOutcome('t', () => { throw 'a string'; }, ALLOWED), /non-Error/);
    assert.throws(() => typedOutcome('t', () => { const end = Date.now() + 30; while (Date.now() < end); }, ALLOWED, 10), /took/);
  });
  it('positions cover the whole range (not just 0)', () => {
    const xs = fc.sample(pos, 2000);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.ok(xs.filter((x) => x > 0.5).length > 500, 'positions are biased to the start');
  });
  it('byte mutations change seeds anywhere, and splices/truncations keep within bounds', () => {
    const seed = Buffer.alloc(300);
    const flipped = applyByteMutation(seed, { kind: 'flip', at: 0.99, bit: 0 }, []);
    assert.equal(flipped[297], 1);
    assert.equal(applyByteMutation(seed, { kind: 'truncate', at: 0.5 }, []).length, 150);
    assert.equal(applyByteMutation(seed, { kind: 'splice', at: 0, other: 0, from: 0 }, [Buffer.alloc(5, 1)]).toString('hex'), '0101010101');
    const seeds = loadHexCorpus('dhcp').map((s) => s.value);
    const changed = fc.sample(mutatedSeed(seeds), 500).filter((b) => !seeds.some((s) => s.equals(b))).length;
    assert.ok(changed > 300, `only ${changed} of 500 mutated`);
  });
  it('tree mutations reach deep nodes and stay bounded on alias-shared YAML', () => {
    const tree = { a: { b: [1, { c: 2 }] } };
    const paths = treePaths(tree).map((p) => p.join('.'));
    assert.deepEqual(paths, ['', 'a', 'a.b', 'a.b.0', 'a.b.1', 'a.b.1.c']);
    assert.deepEqual(applyTreeMutation(structuredClone(tree), { kind: 'replace', at: 0.99, value: null }, []), { a: { b: [1, { c: null }] } });
    const shared: unknown[] = ['x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'];
    let bomb: unknown = shared;
    for (let i = 0; i < 7; i++) bomb = Array(10).fill(bomb);
    assert.ok(treePaths(bomb).length <= 4000);
    assert.ok(loadTextCorpus('config').length > 0);
    assert.equal(fc.sample(mutatedTree([tree]), 50).length, 50);
  });
  it('runProperty reports a failure with seed, path and a compact counterexample', () => {
    const r = runProperty({ name: 'p', weight: 1, property: () => fc.property(fc.uint8Array({ minLength: 1 }), (a) => { typedOutcome('t', () => { if (a[0]! > 200) throw new TypeError('x'); }, ALLOWED); }) }, { numRuns: 2000, seed: 1 });
    assert.ok(r.failed && r.path !== undefined && /hex/.test(r.counterexample ?? '') && /TypeError/.test(r.error ?? ''));
  });
});
