// The `failover` section as one relationship (a mapping) or several (a list), `scopes[].relationship`,
// and the checks across the list (src/config/relationships.ts), through validateConfig as the server runs it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { validateFailover } from '../../src/config/failover.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { ConfigError } from '../../src/errors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are poked at arbitrary paths
type Raw = Record<string, any>;

/** The hub (own failover address 10.9.0.1) is the hot standby of branch `n`, whose server is 10.9.0.<10 + n>. */
const branch = (n: number): Raw => ({
  relationship: `branch-${n}`, role: 'secondary', address: '10.9.0.1', partner: { address: `10.9.0.${10 + n}` }, mode: 'hot-standby',
});
const scope = (name: string, octet: number, relationship?: unknown): Raw => ({
  name, subnet: `10.${octet}.0.0/24`, ranges: [{ start: `10.${octet}.0.10`, end: `10.${octet}.0.20` }],
  ...(relationship !== undefined && { relationship }),
});
const server = { name: 'hub', listen: { address: '127.0.0.1' } };

/** Two relationships, each scope naming its own, one standalone scope: valid. */
function hub(): Raw {
  return { server, failover: [branch(1), branch(2)], scopes: [scope('b1', 1, 'branch-1'), scope('b2', 2, 'branch-2'), scope('lab', 3, 'none')] };
}
/** Today's shape: one relationship as a mapping, scopes without `relationship`. */
function pair(): Raw {
  return { server, failover: branch(1), scopes: [scope('b1', 1), scope('b2', 2)] };
}

function problemsOf(raw: unknown): { path: string; message: string }[] {
  try { validateConfig(raw, 'test.yaml'); } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems.map((p) => ({ ...p }));
  }
  assert.fail('expected a ConfigError');
}

describe('failover as a mapping: one relationship, exactly as before', () => {
  it('yields one relationship, the one validateFailover gives, and every scope belongs to it', () => {
    const cfg = validateConfig(pair());
    assert.deepEqual(cfg.relationships, [validateFailover(branch(1)).config]);
    assert.deepEqual(cfg.scopes.map((s) => s.relationship), ['branch-1', 'branch-1']);
  });

  it('gives the same Config as a list of one', () => {
    assert.deepEqual(validateConfig({ ...pair(), failover: [branch(1)] }), validateConfig(pair()));
  });

  it('keeps its error paths (failover.<field>)', () => {
    const raw = pair();
    raw.failover = { role: 'tertiary', address: '10.0.0.2', partner: { address: 'nope' }, mode: 'load-balance' };
    assert.deepEqual(problemsOf(raw).map((p) => p.path).sort(), ['failover.partner.address', 'failover.relationship', 'failover.role']);
  });

  it('a scope may name the relationship or none', () => {
    const raw = pair();
    raw.scopes[0].relationship = 'branch-1';
    raw.scopes[1].relationship = 'none';
    assert.deepEqual(validateConfig(raw).scopes.map((s) => s.relationship), ['branch-1', undefined]);
  });

  it('a list of one: scopes without relationship belong to it too', () => {
    assert.deepEqual(validateConfig({ ...pair(), failover: [branch(2)] }).scopes.map((s) => s.relationship), ['branch-2', 'branch-2']);
  });
});

describe('no failover', () => {
  for (const [label, failover] of [['absent', undefined], ['null', null], ['an empty list', []]] as const) {
    it(`${label}: no relationship, every scope standalone, none accepted`, () => {
      const raw: Raw = { server, scopes: [scope('a', 1), scope('b', 2, 'none')], ...(failover !== undefined && { failover }) };
      const cfg = validateConfig(raw);
      assert.deepEqual(cfg.relationships, []);
      assert.deepEqual(cfg.scopes.map((s) => s.relationship), [undefined, undefined]);
      assert.equal('relationship' in (cfg.scopes[0] ?? {}), false, 'no key at all on a standalone scope');
    });
  }
});

describe('several relationships', () => {
  it('the hub: two relationships on one listener, each scope resolved', () => {
    const cfg = validateConfig(hub());
    assert.deepEqual(cfg.relationships.map((r) => [r.relationship, r.address, r.port, r.partner.address]), [
      ['branch-1', '10.9.0.1', 647, '10.9.0.11'], ['branch-2', '10.9.0.1', 647, '10.9.0.12'],
    ]);
    assert.deepEqual(cfg.scopes.map((s) => [s.name, s.relationship]), [['b1', 'branch-1'], ['b2', 'branch-2'], ['lab', undefined]]);
    assert.ok(Object.isFrozen(cfg.relationships) && Object.isFrozen(cfg.relationships[1]));
  });

  it('several scopes may share a relationship; a relationship may serve none', () => {
    const raw = hub();
    raw.scopes[1].relationship = 'branch-1';
    assert.deepEqual(validateConfig(raw).scopes.map((s) => s.relationship), ['branch-1', 'branch-1', undefined]);
  });

  it('same own address on other ports, or other own addresses: accepted', () => {
    const raw = hub();
    raw.failover[1].port = 648;
    assert.deepEqual(validateConfig(raw).relationships.map((r) => r.port), [647, 648]);
    raw.failover[1].address = '10.9.0.2';
    assert.equal(validateConfig(raw).relationships.length, 2);
  });

  it('an entry\'s problems carry its index', () => {
    const raw = hub();
    raw.failover[1].mode = 'active';
    raw.failover[0].partner.port = 0;
    assert.deepEqual(problemsOf(raw).map((p) => p.path), ['failover[0].partner.port', 'failover[1].mode']);
  });
});

/** `mutate` breaks a valid fixture (`hub()` unless `from` says otherwise) in one way. */
interface Case { name: string; from?: () => Raw; mutate: (r: Raw) => void; paths: string[]; message?: RegExp }

const CASES: Case[] = [
  // scopes[].relationship
  { name: 'two relationships, a scope without relationship', mutate: (r) => { delete r.scopes[0].relationship; }, paths: ['scopes[0].relationship'], message: /^required: this server is in 2 failover relationships \("branch-1", "branch-2"\).*or "none".*hand out the same addresses twice/ },
  { name: 'two relationships, no scope says which', mutate: (r) => { for (const s of r.scopes) delete s.relationship; }, paths: ['scopes[0].relationship', 'scopes[1].relationship', 'scopes[2].relationship'] },
  { name: 'three relationships, a scope without relationship', mutate: (r) => { r.failover.push(branch(3)); delete r.scopes[2].relationship; }, paths: ['scopes[2].relationship'], message: /in 3 failover relationships/ },
  { name: 'a name that is not a relationship', mutate: (r) => { r.scopes[1].relationship = 'branch-3'; }, paths: ['scopes[1].relationship'], message: /^"branch-3" is not a failover relationship of this server; expected one of "branch-1", "branch-2", or "none"/ },
  { name: 'names are case-sensitive', mutate: (r) => { r.scopes[1].relationship = 'Branch-2'; }, paths: ['scopes[1].relationship'] },
  { name: 'one relationship, another name', from: pair, mutate: (r) => { r.scopes[1].relationship = 'branch-2'; }, paths: ['scopes[1].relationship'], message: /expected one of "branch-1", or "none"/ },
  { name: 'no failover, a scope names a relationship', from: pair, mutate: (r) => { delete r.failover; r.scopes[0].relationship = 'branch-1'; }, paths: ['scopes[0].relationship'], message: /^"branch-1" is not a failover relationship: the file has no failover section/ },
  { name: 'empty list, a scope names a relationship', from: pair, mutate: (r) => { r.failover = []; r.scopes[1].relationship = 'x'; }, paths: ['scopes[1].relationship'] },
  { name: 'relationship not a string', mutate: (r) => { r.scopes[0].relationship = 1; }, paths: ['scopes[0].relationship'], message: /expected a string/ },
  { name: 'relationship empty', mutate: (r) => { r.scopes[0].relationship = ' '; }, paths: ['scopes[0].relationship'], message: /must not be empty/ },
  { name: 'relationship misspelt as a key', mutate: (r) => { r.scopes[0].relationshp = r.scopes[0].relationship; delete r.scopes[0].relationship; }, paths: ['scopes[0].relationshp', 'scopes[0].relationship'], message: /did you mean "relationship"/ },
  // the failover value itself
  { name: 'failover neither a mapping nor a list', mutate: (r) => { r.failover = 'on'; }, paths: ['failover'], message: /expected a mapping \(one relationship\) or a list of them, got string "on"/ },
  { name: 'a list entry not a mapping', mutate: (r) => { r.failover[1] = 'branch-2'; delete r.scopes[1].relationship; }, paths: ['scopes[1].relationship', 'failover[1]'] },
  { name: 'a relationship named none (mapping form)', from: pair, mutate: (r) => { r.failover.relationship = 'none'; }, paths: ['failover.relationship'], message: /"none" is reserved/ },
  { name: 'a relationship named none (list form)', mutate: (r) => { r.failover[1].relationship = 'none'; r.scopes[1].relationship = 'branch-1'; }, paths: ['failover[1].relationship'], message: /"none" is reserved/ },
  // across the list
  { name: 'two relationships with one name', mutate: (r) => { r.failover[1].relationship = 'branch-1'; r.scopes[1].relationship = 'branch-1'; }, paths: ['failover[1].relationship'], message: /^duplicate of failover\[0\]\.relationship$/ },
  { name: 'two relationships with one partner', mutate: (r) => { r.failover[1].partner.address = '10.9.0.11'; }, paths: ['failover[1].partner.address'], message: /^10\.9\.0\.11 is already the partner of failover\[0\] \("branch-1"\): two relationships between the same pair of servers are not allowed/ },
  { name: 'one partner on another port is still one partner', mutate: (r) => { r.failover[1].partner = { address: '10.9.0.11', port: 648 }; }, paths: ['failover[1].partner.address'] },
  { name: 'one partner, third entry', mutate: (r) => { r.failover.push({ ...branch(3), partner: { address: '10.9.0.12' } }); r.scopes[2].relationship = 'branch-3'; }, paths: ['failover[2].partner.address'], message: /partner of failover\[1\] \("branch-2"\)/ },
  { name: 'own address is another relationship\'s partner', mutate: (r) => { r.failover[1].address = '10.9.0.11'; }, paths: ['failover[1].address'], message: /^10\.9\.0\.11 is the partner's address in failover\[0\] \("branch-1"\)/ },
  { name: 'partner is another relationship\'s own address', mutate: (r) => { r.failover[0].address = '10.9.0.2'; r.failover[1].address = '10.9.0.3'; r.failover[1].partner.address = '10.9.0.2'; }, paths: ['failover[1].partner.address'], message: /^10\.9\.0\.2 is this server's own failover address in failover\[0\] \("branch-1"\): the partner cannot be this server/ },
  { name: 'an invalid entry is not cross-checked, and its name still resolves scopes', mutate: (r) => { r.failover[1].partner.address = '10.9.0.11'; r.failover[1].mode = 'x'; }, paths: ['failover[1].mode'] },
  { name: 'an entry without a readable name: scope names are not guessed at', mutate: (r) => { delete r.failover[1].relationship; }, paths: ['failover[1].relationship'], message: /required/ },
];

describe('docs/config.md', () => {
  it('the hub example is valid: two relationships on one listener and a standalone scope', () => {
    const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n(# hub\.yaml\n[\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(yaml, 'the hub example is in docs/config.md');
    const cfg = parseConfigText(yaml, 'hub.yaml');
    assert.deepEqual(cfg.relationships.map((r) => [r.relationship, r.role, `${r.address}:${r.port}`, r.partner.address]), [
      ['branch-1', 'secondary', '10.9.0.1:647', '10.9.0.11'], ['branch-2', 'secondary', '10.9.0.1:647', '10.9.0.12'],
    ]);
    assert.deepEqual(cfg.scopes.map((s) => [s.name, s.relationship]), [['branch-1', 'branch-1'], ['branch-2', 'branch-2'], ['hub-lab', undefined]]);
  });
});

describe('refused, with the path of the bad field', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const raw = (c.from ?? hub)();
      c.mutate(raw);
      const problems = problemsOf(raw);
      assert.deepEqual(problems.map((p) => p.path), c.paths, JSON.stringify(problems, null, 1));
      if (c.message) assert.match(problems[0]?.message ?? '', c.message);
    });
  }
});
