// The `failover` section as a whole: one relationship (a mapping, as it always was) or a list of them
// (one server in several relationships, e.g. a hub that is the standby of two branches). Each entry is
// validated by failover.ts; across the list: unique names, unique partners, and no relationship whose own
// address is another's partner. Also which relationship serves a scope (`scopes[].relationship`),
// resolved against the names declared here. validate.ts and validate-scopes.ts call these.
import { validateFailover, type FailoverConfig } from './failover.ts';
import { at, describe, str, type Obj, type Problems } from './field-readers.ts';

/** `scopes[].relationship: none`: served by this server alone, with no failover. Reserved as a relationship name. */
export const NO_RELATIONSHIP = 'none';

/** What the file declares, read before the scopes, so `scopes[].relationship` resolves even when an entry is invalid. */
export interface DeclaredRelationships {
  /** Relationships the file gives: the list's length, 1 for the mapping form, 0 without `failover`. */
  readonly count: number;
  /** Their names in file order; undefined when one has no readable name (a scope's name is then not checked). */
  readonly names: readonly string[] | undefined;
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

interface Entry { readonly raw: unknown; readonly path: string }

/** The raw `failover` value as entries with their paths: `failover` for the mapping form, `failover[i]` for a list. */
function entriesOf(raw: unknown): Entry[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) return raw.map((r, i) => ({ raw: r, path: `failover[${i}]` }));
  return [{ raw, path: 'failover' }];
}

function rawName(raw: unknown): string | undefined {
  const v = isObj(raw) ? raw.relationship : undefined;
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** Two relationships with one partner, or one's own address as another's partner: reported at the later entry. */
function crossCheck(p: Problems, ok: readonly { cfg: FailoverConfig; path: string }[]): void {
  ok.forEach(({ cfg, path }, j) => {
    for (const { cfg: earlier, path: earlierPath } of ok.slice(0, j)) {
      const which = `${earlierPath} (${JSON.stringify(earlier.relationship)})`;
      if (cfg.partner.address === earlier.partner.address) {
        p.add(`${path}.partner.address`, `${cfg.partner.address} is already the partner of ${which}: two relationships between the same pair of servers are not allowed (the partner's address identifies the relationship on the shared failover listener)`);
      } else if (cfg.partner.address === earlier.address) {
        p.add(`${path}.partner.address`, `${cfg.partner.address} is this server's own failover address in ${which}: the partner cannot be this server`);
      }
      if (cfg.address === earlier.partner.address) {
        p.add(`${path}.address`, `${cfg.address} is the partner's address in ${which}: this server's own failover address cannot be a partner's`);
      }
    }
  });
}

/**
 * Validates `root.failover`: absent, `null` or `[]` = no failover; a mapping = one relationship (paths
 * `failover.<field>`, as always); a list = several (paths `failover[i].<field>`). Problems go to `p`.
 */
export function validateRelationships(p: Problems, raw: unknown): { relationships: FailoverConfig[]; declared: DeclaredRelationships } {
  if (raw !== undefined && raw !== null && !Array.isArray(raw) && !isObj(raw)) {
    p.add('failover', `expected a mapping (one relationship) or a list of them, got ${describe(raw)}`);
    return { relationships: [], declared: { count: 1, names: undefined } };
  }
  const entries = entriesOf(raw);
  const names = entries.map((e) => rawName(e.raw));
  const ok: { cfg: FailoverConfig; path: string }[] = [];
  entries.forEach(({ raw: entry, path }, i) => {
    const f = validateFailover(entry, path);
    for (const problem of f.problems) p.add(problem.path, problem.message);
    const name = names[i];
    if (name === NO_RELATIONSHIP) {
      p.add(`${path}.relationship`, `"${NO_RELATIONSHIP}" is reserved: scopes[].relationship: ${NO_RELATIONSHIP} means a scope served with no failover`);
    } else if (name !== undefined) {
      const first = names.indexOf(name);
      if (first < i) p.add(`${path}.relationship`, `duplicate of ${entries[first]?.path ?? ''}.relationship`);
    }
    if (f.config) ok.push({ cfg: f.config, path });
  });
  crossCheck(p, ok);
  const known = names.every((n) => n !== undefined) ? names as string[] : undefined;
  return { relationships: ok.map((o) => o.cfg), declared: { count: entries.length, names: known } };
}

/**
 * `scopes[i].relationship` resolved: the name of the relationship that serves the scope, or undefined for
 * a standalone scope (`none`, or no relationship in the file). Without the key, a scope belongs to the one
 * relationship when there is exactly one; with two or more it must say which (or `none`).
 */
export function scopeRelationship(p: Problems, o: Obj, path: string, declared: DeclaredRelationships): string | undefined {
  const value = str(p, o, 'relationship', path, false);
  if (value === undefined && o.relationship !== undefined && o.relationship !== null) return undefined; // not a string: reported
  const known = declared.names?.map((n) => JSON.stringify(n)).join(', ');
  if (value === undefined) {
    if (declared.count === 1) return declared.names?.[0];
    if (declared.count >= 2) {
      p.add(at(path, 'relationship'), `required: this server is in ${declared.count} failover relationships${known ? ` (${known})` : ''}, so each scope must name the one that serves it, or "${NO_RELATIONSHIP}" for no failover. `
        + 'It is not guessed: a scope silently served without failover by both servers of a pair would hand out the same addresses twice');
    }
    return undefined;
  }
  if (value === NO_RELATIONSHIP) return undefined;
  if (declared.count === 0) {
    p.add(at(path, 'relationship'), `${JSON.stringify(value)} is not a failover relationship: the file has no failover section (use "${NO_RELATIONSHIP}", or leave the key out)`);
    return undefined;
  }
  if (declared.names === undefined || declared.names.includes(value)) return value;
  p.add(at(path, 'relationship'), `${JSON.stringify(value)} is not a failover relationship of this server; expected one of ${known}, or "${NO_RELATIONSHIP}" for no failover`);
  return undefined;
}
