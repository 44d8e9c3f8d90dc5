// What the peer derives from its failover config (peer-settings.ts): the protocol dialect, the HBA
// polarity (digest §8.3: ISC's "1 = primary serves" for ISC and ourselves), the state machine's settings
// (invariant 11: a secondary keeps the MCLT learned from its primary; invariant 20: automatic
// PARTNER-DOWN only with a configured safe period) and the link's settings (session keys only between
// our own servers; the MS wire encoding only for an MS partner).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFailover, type FailoverConfig } from '../../../src/config/failover.ts';
import { dialectOf, linkSettingsOf, machineConfigOf, polarityOf } from '../../../src/failover/runtime/peer-settings.ts';

function config(extra: Record<string, unknown> = {}): FailoverConfig {
  const { config: c, problems } = validateFailover({
    relationship: 'pair', role: 'primary', address: '10.0.0.2', port: 6470, partner: { address: '10.0.0.3', port: 6471 }, mode: 'load-balance', ...extra,
  });
  assert.deepEqual(problems, []);
  return c!;
}

const DIALECTS = ['self', 'isc', 'ms'] as const;
const extras = { secret: undefined, hba: new Uint8Array(32) };

describe('dialectOf and polarityOf', () => {
  it('our own partner follows the draft; ISC and MS partners their own reading', () => {
    assert.deepEqual(DIALECTS.map((d) => dialectOf({ partnerDialect: d })), ['draft', 'isc', 'ms']);
  });

  it('a set HBA bit means the primary serves, except towards MS (draft polarity)', () => {
    assert.deepEqual(DIALECTS.map((d) => polarityOf({ partnerDialect: d })), ['set-is-primary', 'set-is-primary', 'set-is-secondary']);
  });
});

describe('machineConfigOf', () => {
  const record = { state: 'normal' as const, stos: 1_000, mcltSeconds: 600 };

  it('the primary always runs with its configured MCLT, whatever the record says', () => {
    const c = config({ mcltSeconds: 1800 });
    assert.equal(machineConfigOf(c, undefined).mcltMs, 1_800_000);
    assert.equal(machineConfigOf(c, record).mcltMs, 1_800_000);
  });

  it('the secondary keeps the MCLT it learned from the primary (invariant 11), else its configured one', () => {
    const c = config({ role: 'secondary', mcltSeconds: 1800 });
    assert.equal(machineConfigOf(c, record).mcltMs, 600_000);
    assert.equal(machineConfigOf(c, undefined).mcltMs, 1_800_000, 'no record yet');
    assert.equal(machineConfigOf(c, { state: 'normal', stos: 1_000 }).mcltMs, 1_800_000, 'a record from before MCLT was stored');
  });

  it('carries role, dialect and the startup period in ms', () => {
    const m = machineConfigOf(config({ role: 'secondary', partnerDialect: 'ms', startupSeconds: 7 }), undefined);
    assert.equal(m.role, 'secondary');
    assert.equal(m.dialect, 'ms');
    assert.equal(m.startupMs, 7_000);
  });

  it('automatic PARTNER-DOWN only with a configured stateSwitchoverSeconds (invariant 20)', () => {
    const off = machineConfigOf(config(), undefined).autoPartnerDown;
    assert.equal(off.enabled, false);
    const on = machineConfigOf(config({ stateSwitchoverSeconds: 90 }), undefined).autoPartnerDown;
    assert.equal(on.enabled, true);
    assert.equal(on.intervalMs, 90_000);
    assert.ok(on.recheckMs > 0 && on.recheckMs < on.intervalMs, 'the guard is rechecked well within the safe period');
  });
});

describe('linkSettingsOf', () => {
  it('addresses, ports, relationship and what we advertise in CONNECT come from the config', () => {
    const hba = new Uint8Array(32).fill(0xf0);
    const s = linkSettingsOf(config({ mcltSeconds: 900, maxUnackedUpdates: 12, maxResponseDelaySeconds: 45 }), { secret: undefined, hba, backoffMs: { min: 5, max: 50 }, secretGraceMs: 1234 });
    assert.equal(s.relationship, 'pair');
    assert.equal(s.role, 'primary');
    assert.deepEqual([s.localAddress, s.localPort, s.partnerAddress, s.partnerPort], ['10.0.0.2', 6470, '10.0.0.3', 6471]);
    assert.equal(s.maxUnacked, 12);
    assert.equal(s.receiveTimerSeconds, 45, 'receive-timer is max-response-delay');
    assert.equal(s.mcltSeconds, 900);
    assert.equal(s.hba, hba);
    assert.deepEqual(s.backoffMs, { min: 5, max: 50 });
    assert.equal(s.secretGraceMs, 1234);
  });

  it('session keys only between our own servers', () => {
    const secret = Buffer.from('s3cret');
    assert.equal(linkSettingsOf(config({ partnerDialect: 'self', sharedSecret: 's3cret' }), { ...extras, secret }).sessionKeys, true);
    assert.equal(linkSettingsOf(config({ partnerDialect: 'self' }), extras).sessionKeys, true, 'decided by dialect; without a secret they are unused');
    assert.equal(linkSettingsOf(config({ partnerDialect: 'ms', sharedSecret: 's3cret' }), { ...extras, secret }).sessionKeys, false, 'MS signs with the shared secret alone');
    assert.equal(linkSettingsOf(config({ partnerDialect: 'isc' }), extras).sessionKeys, false);
    assert.equal(linkSettingsOf(config({ partnerDialect: 'ms', sharedSecret: 's3cret' }), { ...extras, secret }).secret, secret);
  });

  it('the MS wire encoding only for an MS partner; ours and ISC share the draft encoding', () => {
    assert.deepEqual(DIALECTS.map((d) => linkSettingsOf(config({ partnerDialect: d }), extras).dialect), ['isc', 'isc', 'ms']);
  });
});
