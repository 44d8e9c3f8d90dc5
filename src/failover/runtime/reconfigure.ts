// What a changed `failover` config section means for a running peer. Pure: compares two configs.
// Three kinds of change (DESIGN.md "Runtime", config reload):
//   - identity (relationship, role, addresses, ports, dialect): another relationship; needs a restart,
//     and nothing of the new section is applied (never half-applied);
//   - link (MCLT, max-unacked, max-response-delay, the HBA the primary sends, a secret added or
//     removed): applied, then the link is re-established so the partner sees them in a new CONNECT;
//   - a secret replaced by another: applied without closing the link (secret-rotation.ts: the old one
//     stays accepted for a grace period, the link moves to the new one once the partner has it);
//   - local (split and reserve on the secondary's side, load-balance max seconds, switchover interval,
//     startup time): applied in place.
import type { FailoverConfig } from '../../config/failover.ts';

export interface ReconfigurePlan {
  /** Field paths that changed, e.g. `failover.splitPercent`. */
  readonly changed: readonly string[];
  /** Changed identity fields: the new section is not applied until a restart. */
  readonly restartRequired: readonly string[];
  /** Re-establish the link after applying (the partner must see a new CONNECT). */
  readonly relink: boolean;
  /** One secret replaced by another: keep the links, accept the previous secret for its grace period. */
  readonly rotateSecret: boolean;
}

type Field = keyof FailoverConfig;
/** Fields a running peer applies only on restart (the operator's restart hash covers exactly these). */
export const IDENTITY_FIELDS: readonly Field[] = ['relationship', 'role', 'address', 'port', 'partner', 'partnerDialect'];
const IDENTITY = IDENTITY_FIELDS;
const LINK: readonly Field[] = ['mcltSeconds', 'maxUnackedUpdates', 'maxResponseDelaySeconds'];
/** The primary sends the HBA in CONNECT; the secondary uses the primary's. */
const PRIMARY_LINK: readonly Field[] = ['mode', 'splitPercent'];
const LOCAL: readonly Field[] = ['mode', 'splitPercent', 'reservePercent', 'loadBalanceMaxSeconds', 'stateSwitchoverSeconds', 'startupSeconds'];
/** Where the secret comes from does not matter, only its bytes. */
const SECRET_SOURCES: readonly Field[] = ['sharedSecret', 'sharedSecretFile'];

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function planReconfigure(
  running: FailoverConfig, runningSecret: Buffer | undefined, next: FailoverConfig, nextSecret: Buffer | undefined,
): ReconfigurePlan {
  const differs = (f: Field): boolean => !same(running[f], next[f]);
  const path = (f: string): string => `failover.${f}`;
  const restartRequired = IDENTITY.filter(differs).map(path);
  const secretChanged = !(runningSecret === undefined ? nextSecret === undefined : nextSecret !== undefined && runningSecret.equals(nextSecret));
  const changed = [...new Set([...IDENTITY, ...LINK, ...LOCAL, ...SECRET_SOURCES].filter(differs).map(path))];
  if (secretChanged && !changed.includes(path('sharedSecret'))) changed.push(path('sharedSecret'));
  const rotateSecret = secretChanged && runningSecret !== undefined && nextSecret !== undefined;
  // With another link change too, the relink itself carries the rotation (the ring keeps the previous secret).
  const relink = (secretChanged && !rotateSecret) || LINK.some(differs) || (next.role === 'primary' && PRIMARY_LINK.some(differs));
  return { changed, restartRequired, relink, rotateSecret };
}
