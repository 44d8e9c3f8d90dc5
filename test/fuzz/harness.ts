// Shared fuzzing machinery: corpus loading, seed mutators (fast-check arbitraries), and the checker
// that every decoder obeys "return a value or throw the project's typed error, quickly".
// The properties live in *.props.ts (one per decoder) so test/fuzz/*.test.ts (CI-sized) and
// scripts/fuzz.ts (on-demand, millions of inputs) run the very same code.
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'corpus');

/** Longest a single decoder call may take before the input counts as a hang. */
export const MAX_CALL_MS = 1000;

export interface Seed<T> { readonly name: string; readonly value: T }

/** The .hex files of corpus/<decoder>/ as Buffers (whitespace and `#` comment lines ignored). */
export function loadHexCorpus(decoder: string): Seed<Buffer>[] {
  const dir = join(CORPUS_DIR, decoder);
  return readdirSync(dir).filter((f) => f.endsWith('.hex')).sort().map((f) => {
    const text = readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => !l.trimStart().startsWith('#')).join('');
    const hex = text.replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`corpus ${decoder}/${f}: not hex`);
    return { name: f, value: Buffer.from(hex, 'hex') };
  });
}

/** The .yaml/.yml files of corpus/<decoder>/ as text. */
export function loadTextCorpus(decoder: string): Seed<string>[] {
  const dir = join(CORPUS_DIR, decoder);
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => ({ name: f, value: readFileSync(join(dir, f), 'utf8') }));
}

// ---------------------------------------------------------------------------------------------
// The checker

/** A typed-error class the decoder is allowed to throw, optionally with its allowed `code`s. */
export interface AllowedError {
  readonly type: abstract new (...args: never[]) => Error;
  readonly codes?: readonly string[];
}

export type Outcome<T> = { readonly ok: true; readonly value: T; readonly ms: number } | { readonly ok: false; readonly error: Error; readonly ms: number };

export class FuzzViolation extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FuzzViolation';
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}${'code' in err ? `(${String((err as { code: unknown }).code)})` : ''}: ${err.message}\n${err.stack ?? ''}`;
  return `non-Error thrown: ${String(err)}`;
}

/**
 * Runs `fn` once. Returns its value or the allowed typed error; throws FuzzViolation (failing the
 * property) for any other exception, a non-Error throw, an allowed class with a code outside its
 * list, or a call slower than MAX_CALL_MS.
 */
export function typedOutcome<T>(what: string, fn: () => T, allowed: readonly AllowedError[], maxMs = MAX_CALL_MS): Outcome<T> {
  const t0 = performance.now();
  let out: Outcome<T>;
  try {
    const value = fn();
    out = { ok: true, value, ms: performance.now() - t0 };
  } catch (err) {
    const ms = performance.now() - t0;
    const match = allowed.find((a) => err instanceof a.type);
    if (match === undefined) throw new FuzzViolation(`${what}: threw an untyped error: ${describeError(err)}`, { cause: err });
    const code = (err as { code?: unknown }).code;
    if (match.codes !== undefined && !match.codes.includes(String(code))) {
      throw new FuzzViolation(`${what}: ${match.type.name} with unexpected code ${String(code)}: ${(err as Error).message}`, { cause: err });
    }
    out = { ok: false, error: err as Error, ms };
  }
  if (out.ms > maxMs) throw new FuzzViolation(`${what}: one call took ${out.ms.toFixed(0)} ms (limit ${maxMs} ms)`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Byte mutators

const INTERESTING_8 = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_16 = [0, 1, 2, 4, 11, 12, 13, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff];

export type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set8'; at: number; value: number }
  | { kind: 'set16'; at: number; value: number }
  | { kind: 'lenDelta'; at: number; delta: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'dup'; at: number; count: number; to: number }
  | { kind: 'splice'; at: number; other: number; from: number };

/**
 * Positions are fractions of the buffer (0..1) so one mutation list fits every seed length. Not
 * fc.double: its values are uniform over float encodings, so nearly all of them are tiny (position 0).
 */
const POS_SCALE = 2 ** 30;
export const pos: fc.Arbitrary<number> = fc.integer({ min: 0, max: POS_SCALE - 1 }).map((n) => n / POS_SCALE);

function mutationArb(seedCount: number): fc.Arbitrary<ByteMutation> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('set8' as const), at: pos, value: fc.oneof(fc.constantFrom(...INTERESTING_8), fc.integer({ min: 0, max: 255 })) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set16' as const), at: pos, value: fc.constantFrom(...INTERESTING_16) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('lenDelta' as const), at: pos, delta: fc.constantFrom(-4, -2, -1, 1, 2, 4, 64, 255, -255) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: pos }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: pos, count: fc.integer({ min: 1, max: 24 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('dup' as const), at: pos, count: fc.integer({ min: 1, max: 64 }), to: pos }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: pos, other: fc.integer({ min: 0, max: Math.max(0, seedCount - 1) }), from: pos }) },
  );
}

/** Applies one mutation (pure: returns a new Buffer). `others` are the seeds used for splicing. */
export function applyByteMutation(buf: Buffer, m: ByteMutation, others: readonly Buffer[]): Buffer {
  const n = buf.length;
  const at = Math.floor(m.at * (n + 1)); // 0..n
  switch (m.kind) {
    case 'flip': { if (n === 0) return buf; const b = Buffer.from(buf); const i = Math.min(at, n - 1); b[i] = b[i]! ^ (1 << m.bit); return b; }
    case 'set8': { if (n === 0) return buf; const b = Buffer.from(buf); b[Math.min(at, n - 1)] = m.value; return b; }
    case 'set16': { if (n < 2) return buf; const b = Buffer.from(buf); b.writeUInt16BE(m.value, Math.min(at, n - 2)); return b; }
    case 'lenDelta': {
      // Treat the byte (or 16-bit word, when the next byte exists) at `at` as a length field and nudge it.
      if (n === 0) return buf;
      const b = Buffer.from(buf); const i = Math.min(at, n - 1);
      if (i + 1 < n && m.delta > 255) b.writeUInt16BE((b.readUInt16BE(i) + m.delta) & 0xffff, i);
      else b[i] = (b[i]! + m.delta) & 0xff;
      return b;
    }
    case 'truncate': return Buffer.from(buf.subarray(0, at));
    case 'insert': return Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)]);
    case 'delete': return Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(n, at + m.count))]);
    case 'dup': {
      const chunk = buf.subarray(at, Math.min(n, at + m.count));
      const to = Math.floor(m.to * (n + 1));
      return Buffer.concat([buf.subarray(0, to), chunk, buf.subarray(to)]);
    }
    case 'splice': {
      const other = others[m.other % Math.max(1, others.length)] ?? Buffer.alloc(0);
      const from = Math.floor(m.from * (other.length + 1));
      return Buffer.concat([buf.subarray(0, at), other.subarray(from)]);
    }
  }
}

/** A seed picked from `seeds` with 1..maxMutations mutations applied (the seed itself when 0 are drawn). */
export function mutatedSeed(seeds: readonly Buffer[], maxMutations = 6): fc.Arbitrary<Buffer> {
  if (seeds.length === 0) throw new Error('mutatedSeed: empty corpus');
  return fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutationArb(seeds.length), { minLength: 0, maxLength: maxMutations }))
    .map(([i, muts]) => muts.reduce((b, m) => applyByteMutation(b, m, seeds), seeds[i]!));
}

/** Random bytes, biased to the lengths that matter for the decoder. */
export function randomBytes(maxLength: number): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ maxLength, size: 'max' }).map((a) => Buffer.from(a));
}

// ---------------------------------------------------------------------------------------------
// Text mutators (YAML)

const YAML_TOKENS = [
  ': ', '- ', '? ', '&a ', '*a', '<<: *a', '!!binary ', '!!str ', '!!int ', '!!float ', '!!map ', '!!seq ', '!!set ', '!!omap ', '!!timestamp ',
  '!custom ', '!!js/function ', '{', '}', '[', ']', ',', '"', "'", '|', '>', '#', '%YAML 1.2\n', '---\n', '...\n', '\t', '\n', '  ', '~',
  'null', 'true', 'false', '.nan', '.inf', '-.inf', '0x1f', '0o17', '1e400', '-0', '99999999999999999999', '1.5', '2026-01-01',
  '2026-01-01T00:00:00Z', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '0.0.0.0', '255.255.255.255', '10.0.0.0/8',
  '10.0.0.1', '/0', '/33', '/32', '256.1.1.1', '::1', '\u0000', '\uffff', '\ud800', 'é', 'x'.repeat(300),
];

export type TextMutation =
  | { kind: 'token'; at: number; token: string }
  | { kind: 'deleteRange'; at: number; count: number }
  | { kind: 'deleteLine'; line: number }
  | { kind: 'dupLine'; line: number; to: number }
  | { kind: 'swapLines'; a: number; b: number }
  | { kind: 'indent'; line: number; delta: number }
  | { kind: 'replaceValue'; line: number; token: string }
  | { kind: 'spliceLines'; line: number; other: number; from: number; count: number }
  | { kind: 'char'; at: number; ch: string };

function textMutationArb(seedCount: number): fc.Arbitrary<TextMutation> {
  const token = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...YAML_TOKENS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12, unit: 'binary' }) });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('token' as const), at: pos, token }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('deleteRange' as const), at: pos, count: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('deleteLine' as const), line: pos }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('dupLine' as const), line: pos, to: pos }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('swapLines' as const), a: pos, b: pos }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('indent' as const), line: pos, delta: fc.constantFrom(-4, -2, -1, 1, 2, 4) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('replaceValue' as const), line: pos, token }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('spliceLines' as const), line: pos, other: fc.integer({ min: 0, max: Math.max(0, seedCount - 1) }), from: pos, count: fc.integer({ min: 1, max: 12 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('char' as const), at: pos, ch: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }) },
  );
}

export function applyTextMutation(text: string, m: TextMutation, others: readonly string[]): string {
  const lines = text.split('\n');
  const li = (p: number): number => Math.min(lines.length - 1, Math.floor(p * lines.length));
  switch (m.kind) {
    case 'token': { const at = Math.floor(m.at * (text.length + 1)); return text.slice(0, at) + m.token + text.slice(at); }
    case 'char': { const at = Math.floor(m.at * (text.length + 1)); return text.slice(0, at) + m.ch + text.slice(at + 1); }
    case 'deleteRange': { const at = Math.floor(m.at * (text.length + 1)); return text.slice(0, at) + text.slice(at + m.count); }
    case 'deleteLine': lines.splice(li(m.line), 1); return lines.join('\n');
    case 'dupLine': lines.splice(li(m.to), 0, lines[li(m.line)]!); return lines.join('\n');
    case 'swapLines': { const a = li(m.a), b = li(m.b); const t = lines[a]!; lines[a] = lines[b]!; lines[b] = t; return lines.join('\n'); }
    case 'indent': {
      const i = li(m.line); const l = lines[i]!;
      lines[i] = m.delta > 0 ? ' '.repeat(m.delta) + l : l.replace(new RegExp(`^ {0,${-m.delta}}`), '');
      return lines.join('\n');
    }
    case 'replaceValue': {
      // Replace what follows the first ": " (or "- ") on a line: the typical "wrong value" mutation.
      const i = li(m.line); const l = lines[i]!;
      const k = l.indexOf(': ');
      if (k >= 0) lines[i] = l.slice(0, k + 2) + m.token;
      else { const d = l.indexOf('- '); lines[i] = d >= 0 ? l.slice(0, d + 2) + m.token : l + m.token; }
      return lines.join('\n');
    }
    case 'spliceLines': {
      const other = (others[m.other % Math.max(1, others.length)] ?? '').split('\n');
      const from = Math.min(other.length - 1, Math.floor(m.from * other.length));
      lines.splice(li(m.line), 0, ...other.slice(from, from + m.count));
      return lines.join('\n');
    }
  }
}

export function mutatedText(seeds: readonly string[], maxMutations = 5): fc.Arbitrary<string> {
  if (seeds.length === 0) throw new Error('mutatedText: empty corpus');
  return fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(textMutationArb(seeds.length), { minLength: 0, maxLength: maxMutations }))
    .map(([i, muts]) => muts.reduce((t, m) => applyTextMutation(t, m, seeds), seeds[i]!));
}

// ---------------------------------------------------------------------------------------------
// Property registry shared by the tests and scripts/fuzz.ts

export interface FuzzProperty {
  /** Shown in test names and the runner's report. */
  readonly name: string;
  /** Share of the decoder's run budget (relative to its other properties). */
  readonly weight: number;
  /** Builds a fresh fast-check property (sync). Its value type varies per property, hence `any`. */
  readonly property: () => fc.IPropertyWithHooks<any>;
  /** When set, a known failure: the test is marked todo with this reason, the runner still runs it. */
  readonly todo?: string;
}

/** A property entry; `todo` marks a known failure. */
export function prop(name: string, weight: number, property: FuzzProperty['property'], todo?: string): FuzzProperty {
  return todo === undefined ? { name, weight, property } : { name, weight, property, todo };
}

export interface Decoder {
  readonly name: string;
  readonly properties: readonly FuzzProperty[];
}

/** numRuns for property `p` of `d` when the decoder as a whole gets `total` runs. */
export function runsFor(d: Decoder, p: FuzzProperty, total: number): number {
  const sum = d.properties.reduce((s, q) => s + q.weight, 0);
  return Math.max(1, Math.round((total * p.weight) / sum));
}

/** FUZZ_RUNS (inputs per decoder) or the CI default. */
export function ciRuns(defaultRuns: number): number {
  const env = process.env.FUZZ_RUNS;
  if (env === undefined || env === '') return defaultRuns;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got ${env}`);
  return n;
}

/** FUZZ_SEED, when set, makes a CI run replayable. */
export function ciSeed(): number | undefined {
  const env = process.env.FUZZ_SEED;
  return env === undefined || env === '' ? undefined : Number(env);
}

// ---------------------------------------------------------------------------------------------
// Tree mutators (parsed YAML / JSON documents): replace, delete or reshape one node.

export type TreeMutation =
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'wrap'; at: number }
  | { kind: 'unwrap'; at: number }
  | { kind: 'dupElement'; at: number }
  | { kind: 'stringify'; at: number }
  | { kind: 'graft'; at: number; other: number; from: number };

/** Most node paths enumerated per tree: YAML aliases share subtrees, so a small file can be a huge tree. */
const MAX_TREE_PATHS = 4000;

/** Paths of the nodes (DFS, root first), at most MAX_TREE_PATHS of them. */
export function treePaths(v: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (out.length >= MAX_TREE_PATHS) return out;
  out.push(path);
  if (Array.isArray(v)) { for (let i = 0; i < v.length && out.length < MAX_TREE_PATHS; i++) treePaths(v[i], [...path, i], out); }
  else if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof Date)) {
    for (const [k, x] of Object.entries(v)) { if (out.length >= MAX_TREE_PATHS) break; treePaths(x, [...path, k], out); }
  }
  return out;
}

function getAt(v: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], v);
}

function setAt(v: unknown, path: readonly (string | number)[], f: (old: unknown, parent: unknown, key: string | number) => unknown): unknown {
  if (path.length === 0) return f(v, undefined, '');
  const parent = getAt(v, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  const nv = f(parent[key], parent, key);
  if (nv === DELETE) { if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete parent[key]; } else parent[key] = nv;
  return v;
}

const DELETE = Symbol('delete');

/** Interesting leaf values for config and CR fields. */
export const leafValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1, 2, 0.5, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, Infinity, -Infinity, NaN, -0,
    '', ' ', '0', '-1', 'true', 'null', '10.0.0.1', '10.0.0.0/24', '0.0.0.0/0', '255.255.255.255', '10.0.0.1/33', '1.2.3', '01.2.3.4', '::1', 'eth0',
    'a'.repeat(300), '__proto__', 'constructor', 'toString', [], {}, [null], { '': null }, new Date(0), Buffer.alloc(3)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

function treeMutationArb(seedCount: number): fc.Arbitrary<TreeMutation> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: pos, value: leafValue }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: pos }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrap' as const), at: pos }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('unwrap' as const), at: pos }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('dupElement' as const), at: pos }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('stringify' as const), at: pos }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('graft' as const), at: pos, other: fc.integer({ min: 0, max: Math.max(0, seedCount - 1) }), from: pos }) },
  );
}

/** Applies a mutation to `v` in place (callers pass a fresh clone); returns the new root. */
export function applyTreeMutation(v: unknown, m: TreeMutation, others: readonly unknown[]): unknown {
  const paths = treePaths(v);
  const path = paths[Math.min(paths.length - 1, Math.floor(m.at * paths.length))]!;
  switch (m.kind) {
    case 'replace': return setAt(v, path, () => structuredClone(m.value));
    case 'delete': return path.length === 0 ? undefined : setAt(v, path, () => DELETE);
    case 'wrap': return setAt(v, path, (old) => [old]);
    case 'unwrap': return setAt(v, path, (old) => (Array.isArray(old) ? old[0] : old !== null && typeof old === 'object' ? Object.values(old)[0] : old));
    case 'dupElement': return setAt(v, path, (old) => (Array.isArray(old) && old.length > 0 ? [...old, structuredClone(old[0])] : old));
    case 'stringify': return setAt(v, path, (old) => (typeof old === 'object' && old !== null ? boundedJson(old) : String(old)));
    case 'graft': {
      const other = others[m.other % Math.max(1, others.length)];
      const op = treePaths(other);
      const from = op[Math.min(op.length - 1, Math.floor(m.from * op.length))]!;
      const node = structuredClone(getAt(other, from));
      return setAt(v, path, () => node);
    }
  }
}

/** JSON of a node, or '[big]' for alias-shared trees whose text would be huge. */
function boundedJson(v: unknown): string {
  if (treePaths(v).length >= MAX_TREE_PATHS) return '[big]';
  return JSON.stringify(v) ?? '';
}

/** A parsed seed (deep-cloned) with 0..maxMutations tree mutations. */
export function mutatedTree(seeds: readonly unknown[], maxMutations = 4): fc.Arbitrary<unknown> {
  if (seeds.length === 0) throw new Error('mutatedTree: empty corpus');
  return fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(treeMutationArb(seeds.length), { minLength: 0, maxLength: maxMutations }))
    .map(([i, muts]) => muts.reduce((t, m) => applyTreeMutation(t, m, seeds), structuredClone(seeds[i])));
}

// ---------------------------------------------------------------------------------------------
// Running a property with a compact report (fast-check's own report prints whole counterexamples,
// which for alias-shared YAML trees can be hundreds of megabytes).

export interface RunReport {
  readonly property: string;
  readonly runs: number;
  readonly failed: boolean;
  readonly interrupted: boolean;
  readonly seconds: number;
  /** Replay with `{ seed, path }` (fast-check parameters). */
  readonly seed: number;
  readonly path?: string | undefined;
  readonly counterexample?: string | undefined;
  readonly error?: string | undefined;
}

export function truncate(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** Renders a counterexample for the report: Buffers as hex, long texts truncated. */
export function showValue(v: unknown): string {
  const seen = new Set<unknown>();
  let budget = 200_000;
  const walk = (x: unknown): unknown => {
    if (--budget < 0) return '…';
    if (Buffer.isBuffer(x)) return `<hex ${x.toString('hex')}>`;
    if (x instanceof Uint8Array) return `<hex ${Buffer.from(x).toString('hex')}>`;
    if (typeof x === 'bigint') return `${x}n`;
    if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
    if (typeof x === 'string' || x === null || typeof x !== 'object') return x;
    if (seen.has(x)) return '<shared>';
    seen.add(x);
    if (Array.isArray(x)) return x.map(walk);
    return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]));
  };
  return truncate(JSON.stringify(walk(v)) ?? String(v), 4000);
}

export function runProperty(p: FuzzProperty, params: { numRuns: number; seed?: number | undefined; path?: string | undefined; timeLimitMs?: number | undefined }): RunReport {
  const t0 = performance.now();
  const details = fc.check(p.property(), {
    numRuns: params.numRuns,
    ...(params.seed !== undefined && { seed: params.seed }),
    ...(params.path !== undefined && { path: params.path }),
    ...(params.timeLimitMs !== undefined && { interruptAfterTimeLimit: params.timeLimitMs }),
    endOnFailure: true,
  });
  const seconds = (performance.now() - t0) / 1000;
  const base = { property: p.name, runs: details.numRuns, failed: details.failed, interrupted: details.interrupted, seconds, seed: details.seed };
  if (!details.failed) return base;
  const err = details.errorInstance;
  return {
    ...base,
    path: details.counterexamplePath ?? undefined,
    counterexample: details.counterexample === null ? undefined : showValue(details.counterexample),
    error: truncate(err instanceof Error ? `${err.stack ?? err.message}` : String(err), 4000),
  };
}

export function formatFailure(d: string, r: RunReport): string {
  return [
    `${d}: property failed after ${r.runs} run(s): ${r.property}`,
    `  replay: { seed: ${r.seed}, path: ${JSON.stringify(r.path ?? '')} }`,
    `  counterexample: ${r.counterexample ?? '(none)'}`,
    `  error: ${(r.error ?? '').split('\n').join('\n    ')}`,
  ].join('\n');
}
