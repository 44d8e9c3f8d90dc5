// Turns a Decoder's properties into node:test cases (CI-sized); a property with `todo` is a known failure.
// FUZZ_RUNS sets the inputs per decoder; FUZZ_SEED (and FUZZ_PATH) replay a failure.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ciRuns, ciSeed, formatFailure, runProperty, runsFor, type Decoder } from './harness.ts';

export function registerDecoderTests(d: Decoder, defaultRuns: number): void {
  const total = ciRuns(defaultRuns);
  const seed = ciSeed();
  const path = process.env.FUZZ_PATH || undefined;
  for (const p of d.properties) {
    const numRuns = runsFor(d, p, total);
    it(`${p.name} (${numRuns} runs)`, p.todo !== undefined ? { todo: p.todo } : {}, () => {
      const r = runProperty(p, { numRuns, seed, path });
      if (r.failed) assert.fail(formatFailure(d.name, r));
      assert.ok(r.runs > 0 && r.runs <= numRuns, `ran ${r.runs} of ${numRuns}`);
    });
  }
}
