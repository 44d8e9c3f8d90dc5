// Config decoders (src/config/): parseConfigText (YAML text → validated Config) and validateConfig
// (any parsed value → Config). Contract: a Config or ConfigError (code config_invalid) with at least
// one problem, each with a string path and message.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { ConfigError } from '../../src/errors.ts';
import { parseConfigText, parseYaml } from '../../src/config/load.ts';
import { validateConfig } from '../../src/config/validate.ts';
import type { Config } from '../../src/config/schema.ts';
import { leafValue, loadTextCorpus, mutatedText, mutatedTree, typedOutcome, type AllowedError, type Decoder, prop } from './harness.ts';

const ALLOWED: readonly AllowedError[] = [{ type: ConfigError, codes: ['config_invalid'] }];

export const CONFIG_SEEDS: readonly string[] = loadTextCorpus('config').map((s) => s.value);
/** The seeds that parse as YAML, as trees (for structural mutation). */
export const CONFIG_TREES: readonly unknown[] = CONFIG_SEEDS.flatMap((t) => { try { return [yaml.load(t)]; } catch { return []; } });

function checkConfigError(err: Error): void {
  const e = err as ConfigError;
  assert.ok(Array.isArray(e.problems), 'ConfigError without a problems list');
  assert.ok(e.problems.length > 0, 'ConfigError without problems');
  for (const p of e.problems) assert.ok(typeof p.path === 'string' && typeof p.message === 'string' && p.message.length > 0, `bad problem ${JSON.stringify(p)}`);
}

export function checkText(text: string): Config | undefined {
  const r = typedOutcome('parseConfigText', () => parseConfigText(text, 'fuzz.yaml'), ALLOWED);
  if (!r.ok) { checkConfigError(r.error); return undefined; }
  assert.ok(Object.isFrozen(r.value), 'Config is not frozen');
  // A valid config survives a YAML round trip of its parsed form unchanged (dump → load → validate).
  const again = parseConfigText(yaml.dump(parseYaml(text), { noRefs: true, lineWidth: -1 }), 'fuzz.yaml');
  assert.deepEqual(again, r.value);
  return r.value;
}

export function checkTree(raw: unknown): Config | undefined {
  const r = typedOutcome('validateConfig', () => validateConfig(raw, 'fuzz'), ALLOWED);
  if (!r.ok) { checkConfigError(r.error); return undefined; }
  assert.ok(Object.isFrozen(r.value), 'Config is not frozen');
  return r.value;
}

export const configDecoder: Decoder = {
  name: 'config',
  properties: [
    prop('parseConfigText: mutated corpus YAML → Config or ConfigError; valid ones survive a YAML round trip', 5, () =>
      fc.property(mutatedText(CONFIG_SEEDS), (t) => { checkText(t); })),
    prop('parseConfigText: random text → Config or ConfigError', 1, () =>
      fc.property(fc.oneof(fc.string({ maxLength: 200, unit: 'binary' }), fc.string({ maxLength: 200, unit: fc.constantFrom(...'abc: -[]{}&*!|>\'"#%@`,?\n\t 0123456789.') })), (t) => { checkText(t); })),
    prop('validateConfig: structurally mutated parsed configs → Config or ConfigError', 4, () =>
      fc.property(mutatedTree(CONFIG_TREES, 4), (raw) => { checkTree(raw); })),
    prop('validateConfig: arbitrary values → Config or ConfigError', 1, () =>
      fc.property(fc.oneof(fc.anything({ maxDepth: 4 }), leafValue, fc.dictionary(fc.constantFrom('server', 'scopes', 'failover'), fc.anything({ maxDepth: 3 }))), (raw) => { checkTree(raw); })),
    prop('parseConfigText: explicit tags on odd nodes (`!!binary` then a line `-0`…) → ConfigError', 1, () =>
      fc.property(fc.constantFrom('!!binary', '!!timestamp', '!!int', '!!float', '!!bool', '!!null', '!!omap', '!!pairs', '!!set', '!!str'),
        fc.constantFrom(' \n-0\n', ' \n-1\n', ' \n1\n', ' \n0.5\n', '\n- 0\n', ' [1, 2]\n', ' {a: 1}\n', ' x\n', ' 1\n'), fc.boolean(), (tag, body, nested) => {
          const text = nested ? `server:\n  name: ${tag}${body.replace(/\n(?=.)/g, '\n    ')}` : `${tag}${body}`;
          typedOutcome('parseConfigText', () => parseConfigText(text, 'fuzz.yaml'), ALLOWED);
        })),
    prop('validateConfig: `serverId: null` counts as absent: derived from listen.address, or reported with a problem', 1, () =>
      fc.property(mutatedTree(CONFIG_TREES.filter((t) => typeof (t as { server?: unknown })?.server === 'object'), 2), (raw) => {
        const t = structuredClone(raw) as { server?: Record<string, unknown> };
        fc.pre(typeof t?.server === 'object' && t.server !== null);
        t.server!.serverId = null;
        const r = typedOutcome('validateConfig', () => validateConfig(t, 'fuzz'), ALLOWED);
        if (!r.ok) assert.ok((r.error as ConfigError).problems.length > 0, 'ConfigError without problems');
        else assert.notEqual(r.value.server.serverId, 0);
      })),
  ],
};
