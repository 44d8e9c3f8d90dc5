// The CONNECT/CONNECTACK handshake decisions (handshake.ts) without sockets: which reject reason a
// partner's CONNECT or CONNECTACK earns, in draft order (D12 §7.8.2, digest §1.5: version, relationship,
// clock, MCLT, HBA; then ISC's duplicate-connection check), the 60 s clock limit (digest §1.11), the
// fields each message we send must carry (digest §1.5 option lists), and what the handshake learns.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptingConnectack, checkConnect, checkConnectack, clockSkewProblem, connectMessage, ConnectReject, MAX_SKEW_SECONDS,
  partnerParamsFromConnect, partnerParamsFromConnectack, rejectingConnectack, skewSecondsOf, VENDOR_CLASS, type HandshakeRejection,
} from '../../../src/failover/link/handshake.ts';
import { newNonce, nonceOf } from '../../../src/failover/link/session-key.ts';
import { decodeFailoverMessage, encodeFailoverMessage, type Connect, type Connectack } from '../../../src/failover/wire/message.ts';
import { REJECT_REASONS } from '../../../src/failover/wire/options.ts';

const REL = 'dhcp-pair';
const T = 1_790_000_000; // header time, seconds
const HBA = Buffer.alloc(32, 0x0f);

/** A CONNECT as a primary that does everything right sends it; modifiers break one thing at a time. */
function connect(over: Partial<Connect> = {}): Connect {
  return {
    type: 'CONNECT', xid: 0, time: T, relationshipName: REL, maxUnackedBndupd: 10, receiveTimer: 30, vendorClassIdentifier: 'isc-4.4.3',
    protocolVersion: 1, tlsRequest: 0, mclt: 3600, hba: HBA, ...over,
  };
}

function connectack(over: Partial<Connectack> = {}): Connectack {
  return {
    type: 'CONNECTACK', xid: 0, time: T, relationshipName: REL, maxUnackedBndupd: 20, receiveTimer: 45, vendorClassIdentifier: 'isc-4.4.3', protocolVersion: 1, ...over,
  };
}

const ok = { relationship: REL, skewSeconds: 0, alreadyConnected: false };
const settings = { relationship: REL, maxUnacked: 10, receiveTimerSeconds: 30, mcltSeconds: 1800, hba: new Uint8Array(HBA) };

describe('skewSecondsOf and clockSkewProblem (digest §1.11)', () => {
  it('is our clock minus the header time, in whole seconds', () => {
    assert.equal(skewSecondsOf(T, T * 1000), 0);
    assert.equal(skewSecondsOf(T, T * 1000 + 999), 0, 'a fraction of our second is not skew');
    assert.equal(skewSecondsOf(T - 5, T * 1000 + 400), 5, 'partner behind: positive');
    assert.equal(skewSecondsOf(T + 61, T * 1000), -61, 'partner ahead: negative');
  });

  it('allows exactly 60 s either way and refuses 61 s', () => {
    assert.equal(MAX_SKEW_SECONDS, 60);
    for (const s of [0, 1, 60, -60]) assert.equal(clockSkewProblem(s), undefined, `${s} s`);
    for (const s of [61, -61, 3600]) {
      const why = clockSkewProblem(s);
      assert.ok(why !== undefined, `${s} s`);
      assert.match(why, new RegExp(`${s} s`), 'the message names the measured skew');
    }
  });
});

describe('checkConnect (secondary, D12 §7.8.2)', () => {
  it('accepts a well-formed CONNECT from the configured relationship', () => {
    assert.equal(checkConnect(connect(), ok), undefined);
    assert.equal(checkConnect(connect({ protocolVersion: undefined, tlsRequest: undefined }), ok), undefined, 'ISC does not require protocol-version; MS sends no TLS-request');
    assert.equal(checkConnect(connect(), { ...ok, skewSeconds: -60 }), undefined);
  });

  const table: { name: string; m: Connect; o?: Partial<typeof ok>; reason: number; kind?: HandshakeRejection['kind'] }[] = [
    { name: 'protocol version other than 1', m: connect({ protocolVersion: 2 }), reason: REJECT_REASONS.VERSION_MISMATCH },
    { name: 'another relationship name', m: connect({ relationshipName: 'other' }), reason: REJECT_REASONS.INVALID_PARTNER },
    { name: 'relationship name differs only in case (byte-exact)', m: connect({ relationshipName: REL.toUpperCase() }), reason: REJECT_REASONS.INVALID_PARTNER },
    { name: 'no relationship name', m: connect({ relationshipName: undefined }), reason: REJECT_REASONS.INVALID_PARTNER },
    { name: 'clock 61 s behind', m: connect(), o: { skewSeconds: 61 }, reason: REJECT_REASONS.TIME_MISMATCH, kind: 'skew' },
    { name: 'clock 61 s ahead', m: connect(), o: { skewSeconds: -61 }, reason: REJECT_REASONS.TIME_MISMATCH, kind: 'skew' },
    { name: 'MCLT missing', m: connect({ mclt: undefined }), reason: REJECT_REASONS.INVALID_MCLT },
    { name: 'MCLT 0 (no server can run with it)', m: connect({ mclt: 0 }), reason: REJECT_REASONS.INVALID_MCLT },
    { name: 'HBA missing', m: connect({ hba: undefined }), reason: REJECT_REASONS.HBA_CONFLICT },
    { name: 'already connected', m: connect(), o: { alreadyConnected: true }, reason: REJECT_REASONS.DUPLICATE_CONNECTION },
  ];
  for (const c of table) {
    it(`rejects: ${c.name}`, () => {
      const r = checkConnect(c.m, { ...ok, ...c.o });
      assert.ok(r !== undefined);
      assert.equal(r.reason, c.reason);
      assert.equal(r.kind, c.kind ?? 'rejected', 'only the clock counts as skew');
      assert.ok(r.why.length > 0);
    });
  }

  it('when two checks fail, the earlier one in draft order decides', () => {
    const pairs: { name: string; m: Connect; o?: Partial<typeof ok>; reason: number }[] = [
      { name: 'version before relationship', m: connect({ protocolVersion: 3, relationshipName: 'other' }), reason: REJECT_REASONS.VERSION_MISMATCH },
      { name: 'relationship before clock', m: connect({ relationshipName: 'other' }), o: { skewSeconds: 500 }, reason: REJECT_REASONS.INVALID_PARTNER },
      { name: 'clock before MCLT', m: connect({ mclt: undefined }), o: { skewSeconds: 500 }, reason: REJECT_REASONS.TIME_MISMATCH },
      { name: 'MCLT before HBA', m: connect({ mclt: 0, hba: undefined }), reason: REJECT_REASONS.INVALID_MCLT },
      { name: 'HBA before duplicate', m: connect({ hba: undefined }), o: { alreadyConnected: true }, reason: REJECT_REASONS.HBA_CONFLICT },
      { name: 'relationship before duplicate', m: connect({ relationshipName: 'other' }), o: { alreadyConnected: true }, reason: REJECT_REASONS.INVALID_PARTNER },
    ];
    for (const p of pairs) assert.equal(checkConnect(p.m, { ...ok, ...p.o })?.reason, p.reason, p.name);
  });
});

describe('checkConnectack (primary, digest §1.5 "what makes an ISC primary drop our CONNECTACK")', () => {
  const o = { relationship: REL, skewSeconds: 0 };
  it('accepts the right relationship within 60 s, whatever else is missing', () => {
    assert.equal(checkConnectack(connectack(), o), undefined);
    assert.equal(checkConnectack(connectack({ maxUnackedBndupd: undefined, receiveTimer: undefined, protocolVersion: undefined }), { ...o, skewSeconds: 60 }), undefined);
  });

  it('rejects another relationship (8), then a clock over 60 s (4)', () => {
    assert.deepEqual(
      [checkConnectack(connectack({ relationshipName: 'other' }), o)?.reason, checkConnectack(connectack({ relationshipName: undefined }), o)?.reason],
      [REJECT_REASONS.INVALID_PARTNER, REJECT_REASONS.INVALID_PARTNER]);
    const skew = checkConnectack(connectack(), { ...o, skewSeconds: -61 });
    assert.equal(skew?.reason, REJECT_REASONS.TIME_MISMATCH);
    assert.equal(skew?.kind, 'skew');
    assert.equal(checkConnectack(connectack({ relationshipName: 'other' }), { ...o, skewSeconds: 500 })?.reason, REJECT_REASONS.INVALID_PARTNER, 'relationship first');
  });
});

describe('the messages we send (digest §1.5)', () => {
  it('CONNECT carries every option the draft makes MUST, with our values', () => {
    const m = connectMessage(settings, undefined);
    assert.equal(m.type, 'CONNECT');
    assert.equal(m.relationshipName, REL);
    assert.equal(m.maxUnackedBndupd, 10);
    assert.equal(m.receiveTimer, 30);
    assert.equal(m.vendorClassIdentifier, VENDOR_CLASS);
    assert.equal(m.protocolVersion, 1);
    assert.equal(m.tlsRequest, 0, 'no TLS');
    assert.equal(m.mclt, 1800);
    assert.deepEqual(m.hba, HBA);
    assert.ok(Buffer.isBuffer(m.hba), 'the HBA option is encoded from a Buffer');
    assert.equal(m.vendorOptions, undefined, 'no nonce without session keys');
  });

  it('CONNECT to a Microsoft partner carries no TLS-request (MS-DHCPF 3.2.7.1), and still encodes and decodes in its dialect', () => {
    const m = connectMessage({ ...settings, dialect: 'ms' }, undefined);
    assert.equal('tlsRequest' in m, false);
    const back = decodeFailoverMessage(encodeFailoverMessage({ ...m, xid: 1, time: T } as Connect, { dialect: 'ms' }));
    assert.equal(back.type, 'CONNECT');
    assert.equal((back as Connect).tlsRequest, undefined);
    assert.equal(connectMessage({ ...settings, dialect: 'isc' }, undefined).tlsRequest, 0, 'ISC and our own servers: TLS-request 0, as ISC sends it');
  });

  it('CONNECT copies the HBA: changing the settings later does not change a built message', () => {
    const hba = new Uint8Array(32).fill(0xff);
    const m = connectMessage({ ...settings, hba }, undefined);
    hba.fill(0);
    assert.deepEqual(m.hba, Buffer.alloc(32, 0xff));
  });

  it('a nonce travels under our vendor class, in CONNECT and in both CONNECTACKs', () => {
    const n = newNonce();
    const reject: HandshakeRejection = { reason: REJECT_REASONS.INVALID_PARTNER, why: 'no', kind: 'rejected' };
    for (const m of [connectMessage(settings, n), acceptingConnectack(settings, connect(), n), rejectingConnectack(settings, reject, n)]) {
      assert.equal(m.vendorClassIdentifier, VENDOR_CLASS, m.type);
      assert.deepEqual(nonceOf(m, VENDOR_CLASS), n, m.type);
    }
  });

  it('an accepting CONNECTACK carries our window and receive timer, never MCLT or HBA', () => {
    const m = acceptingConnectack(settings, connect(), undefined);
    assert.equal(m.type, 'CONNECTACK');
    assert.equal(m.relationshipName, REL);
    assert.equal(m.maxUnackedBndupd, 10, 'ISC never sends BNDUPDs without it');
    assert.equal(m.receiveTimer, 30, 'ISC sends CONTACT every 0 s without it');
    assert.equal(m.vendorClassIdentifier, VENDOR_CLASS);
    assert.equal(m.protocolVersion, 1);
    assert.equal(m.rejectReason, undefined);
    assert.ok(!('mclt' in m) && !('hba' in m));
  });

  it('TLS-reply 0 only when the CONNECT had a TLS-request', () => {
    assert.equal(acceptingConnectack(settings, connect({ tlsRequest: 0 }), undefined).tlsReply, 0);
    assert.equal(acceptingConnectack(settings, connect({ tlsRequest: 1 }), undefined).tlsReply, 0, 'TLS requested but optional: refused by a 0');
    assert.ok(!('tlsReply' in acceptingConnectack(settings, connect({ tlsRequest: undefined }), undefined)), 'MS sends no TLS-request');
  });

  it('a rejecting CONNECTACK carries the reason and why, and nothing of the accepting one', () => {
    const m = rejectingConnectack({ relationship: REL }, { reason: REJECT_REASONS.TIME_MISMATCH, why: 'clock skew 90 s', kind: 'skew' }, undefined);
    assert.deepEqual(m, { type: 'CONNECTACK', relationshipName: REL, protocolVersion: 1, rejectReason: 4, message: 'clock skew 90 s' });
    const long = rejectingConnectack({ relationship: REL }, { reason: 6, why: 'x'.repeat(1000), kind: 'rejected' }, undefined);
    assert.ok(long.message !== undefined && long.message.length <= 200 && long.message.length > 0, 'a long reason is cut to fit one option');
  });

  it('every message encodes in both wire dialects and decodes to the same fields', () => {
    const reject: HandshakeRejection = { reason: REJECT_REASONS.HBA_CONFLICT, why: 'hash-bucket-assignment missing', kind: 'rejected' };
    for (const dialect of ['isc', 'ms'] as const) {
      for (const m of [connectMessage(settings, newNonce()), acceptingConnectack(settings, connect(), newNonce()), rejectingConnectack(settings, reject, undefined)]) {
        const full = { ...m, xid: 7, time: T } as Connect | Connectack;
        assert.deepEqual(decodeFailoverMessage(encodeFailoverMessage(full, { dialect })), full, `${dialect} ${m.type}`);
      }
    }
  });

  it('ConnectReject names the draft numbers', () => {
    assert.deepEqual([ConnectReject.TIME_MISMATCH, ConnectReject.INVALID_MCLT, ConnectReject.DUPLICATE_CONNECTION, ConnectReject.INVALID_PARTNER,
      ConnectReject.VERSION_MISMATCH, ConnectReject.HBA_CONFLICT, ConnectReject.DIGEST_FAILED], [4, 5, 7, 8, 14, 18, 20]);
  });
});

describe('what the handshake learns about the partner', () => {
  it('from a CONNECT: its window, receive timer, vendor, the skew, and the MCLT and HBA to adopt (invariant 11)', () => {
    const m = connect({ maxUnackedBndupd: 25, receiveTimer: 20, mclt: 600, vendorClassIdentifier: 'isc-4.4.3-P1' });
    const p = partnerParamsFromConnect(m, -3);
    assert.deepEqual(p, { maxUnacked: 25, receiveTimerSeconds: 20, mcltSeconds: 600, hba: HBA, vendorClass: 'isc-4.4.3-P1', skewSeconds: -3 });
    assert.notEqual(p.hba, m.hba, 'a copy, not the decoder\'s buffer');
  });

  it('from a CONNECTACK: no MCLT or HBA (the primary keeps its own)', () => {
    const p = partnerParamsFromConnectack(connectack({ mclt: 5 } as Partial<Connectack>), 2);
    assert.deepEqual(p, { maxUnacked: 20, receiveTimerSeconds: 45, vendorClass: 'isc-4.4.3', skewSeconds: 2 });
  });

  it('a partner that advertises no window still gets one (D12: max-unacked ≥ 1); no receive timer means none', () => {
    for (const p of [partnerParamsFromConnect(connect({ maxUnackedBndupd: undefined, receiveTimer: undefined }), 0),
      partnerParamsFromConnectack(connectack({ maxUnackedBndupd: undefined, receiveTimer: undefined }), 0)]) {
      assert.ok(p.maxUnacked >= 1);
      assert.equal(p.receiveTimerSeconds, 0);
    }
  });
});
