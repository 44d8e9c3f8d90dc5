// Readers of raw YAML fields for the config validators: each takes the parent mapping, a key and the
// parent's path, reports a bad or missing value to `Problems` at its own path (`server.listen.port:
// expected an integer, got string "67"`) and returns undefined or the fallback. No knowledge of any
// config section lives here.
import type { ConfigProblem } from '../errors.ts';
import { parseIpv4, type Ipv4 } from '../net/ipv4.ts';
import { NAME_PATTERN } from './defaults.ts';

export type Obj = Record<string, unknown>;
export type Bounds = { readonly min: number; readonly max: number };

/** Collects problems; every reader returns undefined for a missing or bad value after reporting it. */
export class Problems {
  readonly list: ConfigProblem[] = [];
  add(path: string, message: string): void { this.list.push({ path, message }); }
}

export const at = (path: string, key: string): string => (path ? `${path}.${key}` : key);
export const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`);

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

/** A mapping holding only `allowed` keys; each unknown key is reported at its own path. */
export function mapping(p: Problems, value: unknown, path: string, allowed: readonly string[]): Obj | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date) {
    p.add(path || '(root)', `expected a mapping, got ${describe(value)}`);
    return undefined;
  }
  const obj = value as Obj;
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((k) => editDistance(k, key) <= 2);
    p.add(at(path, key), `unknown key${near ? ` (did you mean "${near}"?)` : ''}; allowed: ${allowed.join(', ')}`);
  }
  return obj;
}

export function list(p: Problems, obj: Obj, key: string, path: string, required: boolean): unknown[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) { if (required) p.add(at(path, key), 'required'); return undefined; }
  if (!Array.isArray(v)) { p.add(at(path, key), `expected a list, got ${describe(v)}`); return undefined; }
  return v;
}

export function str(p: Problems, obj: Obj, key: string, path: string, required: boolean): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) { if (required) p.add(at(path, key), 'required'); return undefined; }
  if (typeof v !== 'string') { p.add(at(path, key), `expected a string, got ${describe(v)} (quote it in YAML)`); return undefined; }
  if (v.trim() === '') { p.add(at(path, key), 'must not be empty'); return undefined; }
  return v;
}

export function int(p: Problems, obj: Obj, key: string, path: string, bounds: Bounds, fallback: number): number {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) { p.add(at(path, key), `expected an integer, got ${describe(v)}`); return fallback; }
  if (v < bounds.min || v > bounds.max) { p.add(at(path, key), `${v} is out of range ${bounds.min}..${bounds.max}`); return fallback; }
  return v;
}

export function bool(p: Problems, obj: Obj, key: string, path: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') { p.add(at(path, key), `expected true or false, got ${describe(v)}`); return fallback; }
  return v;
}

export function oneOf<T extends string>(p: Problems, obj: Obj, key: string, path: string, allowed: readonly T[], fallback: T | undefined): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) { if (fallback === undefined) p.add(at(path, key), 'required'); return fallback; }
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) { p.add(at(path, key), `must be one of ${allowed.join(', ')}, got ${describe(v)}`); return undefined; }
  return v as T;
}

export function ipv4(p: Problems, obj: Obj, key: string, path: string, required: boolean): Ipv4 | undefined {
  const text = str(p, obj, key, path, required);
  if (text === undefined) return undefined;
  try { return parseIpv4(text.trim()); } catch { p.add(at(path, key), `not an IPv4 address: ${JSON.stringify(text)}`); return undefined; }
}

export function name(p: Problems, obj: Obj, key: string, path: string): string | undefined {
  const v = str(p, obj, key, path, true);
  if (v !== undefined && !NAME_PATTERN.test(v)) { p.add(at(path, key), `${JSON.stringify(v)} must be 1-63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit`); return undefined; }
  return v;
}
