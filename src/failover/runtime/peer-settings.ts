// What the peer derives from its `failover` config section (pure): the state machine's settings, the
// link's settings, the protocol dialect and the load-balancing polarity. Kept apart from peer.ts so the
// derivations can be read (and tested) without the runtime around them.
import type { FailoverConfig } from '../../config/failover.ts';
import type { LinkSettings } from '../link/link-params.ts';
import type { Dialect, MachineConfig } from '../protocol/state-machine.ts';
import type { HbaPolarity } from '../rules/load-balance.ts';
import { wireDialectOf } from '../wire/dialect.ts';
import type { StateRecord } from './state-record.ts';

/**
 * Once the safe period has run, how often the guard's evidence is re-checked while it lacks any: the
 * partner's clients retry every few seconds, so a short period takes over soon after they start.
 */
const SWITCHOVER_RECHECK_MS = 2_000;

export function dialectOf(c: Pick<FailoverConfig, 'partnerDialect'>): Dialect { return c.partnerDialect === 'self' ? 'draft' : c.partnerDialect; }
/** ISC polarity (1 bit = primary serves) for ISC and for ourselves; draft polarity only for MS (unverified, §8.3). */
export function polarityOf(c: Pick<FailoverConfig, 'partnerDialect'>): HbaPolarity { return c.partnerDialect === 'ms' ? 'set-is-secondary' : 'set-is-primary'; }

export function machineConfigOf(cfg: FailoverConfig, record: StateRecord | undefined): MachineConfig {
  return {
    role: cfg.role, dialect: dialectOf(cfg),
    // The secondary keeps the MCLT it learned from the primary (invariant 11).
    mcltMs: (cfg.role === 'secondary' && record?.mcltSeconds ? record.mcltSeconds : cfg.mcltSeconds) * 1000,
    startupMs: cfg.startupSeconds * 1000,
    autoPartnerDown: {
      enabled: cfg.stateSwitchoverSeconds !== undefined,
      intervalMs: (cfg.stateSwitchoverSeconds ?? 0) * 1000, recheckMs: SWITCHOVER_RECHECK_MS,
    },
  };
}

export interface LinkExtras {
  readonly secret: Buffer | undefined;
  /** The HBA the primary sends in CONNECT (the secondary's is whatever it learned). */
  readonly hba: Uint8Array;
  readonly backoffMs?: { min: number; max: number } | undefined;
  readonly secretGraceMs?: number | undefined;
}

export function linkSettingsOf(cfg: FailoverConfig, x: LinkExtras): LinkSettings {
  return {
    relationship: cfg.relationship, role: cfg.role,
    localAddress: cfg.address, localPort: cfg.port,
    partnerAddress: cfg.partner.address, partnerPort: cfg.partner.port,
    secret: x.secret, dialect: wireDialectOf(dialectOf(cfg)), sessionKeys: cfg.partnerDialect === 'self', maxUnacked: cfg.maxUnackedUpdates, receiveTimerSeconds: cfg.maxResponseDelaySeconds,
    mcltSeconds: cfg.mcltSeconds, hba: x.hba, backoffMs: x.backoffMs, secretGraceMs: x.secretGraceMs,
  };
}
