// Hostile or broken failover partner against a real server-side endpoint (FailoverPeer, secondary,
// shared secret) on loopback, driven by raw sockets: every case must leave a log line, a counter,
// the relationship state, the leases and the process intact, and the endpoint must still accept a
// good partner afterwards. Harness: test/fakes/hostile-peer.ts (its raw partner speaks our dialect,
// session keys included: openSession).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { bindingOf } from '../../../src/failover/wire/binding-message.ts';
import { MAX_INBOUND_SOCKETS } from '../../../src/failover/link/listener.ts';
import { HANDSHAKE_TIMEOUT_MS } from '../../../src/failover/link/handshake.ts';
import { signMessage } from '../../../src/failover/wire/auth.ts';
import type { Lease } from '../../../src/leases/lease.ts';
import { parseIpv4 } from '../../../src/net/ipv4.ts';
import {
  build, captureLogs, connectBody, counter, fingerprint, goodPartnerConnects, linkCount, linkErrors, logMark, logsSince,
  nowSeconds, openSession, PARTNER_ADDRESS, PROTECTED_LEASE, pseudoRandomBytes, RawPartner, RELATIONSHIP, SECRET, sleep, startEndpoint,
  STRANGER_ADDRESS, until, type Body, type Endpoint, type Fingerprint, type LogLine, type Session,
} from '../../fakes/hostile-peer.ts';

captureLogs();
const running: Endpoint[] = [];
after(async () => { for (const e of running) await e.peer.stop().catch(() => undefined); });
async function endpoint(...args: Parameters<typeof startEndpoint>): Promise<Endpoint> { const e = await startEndpoint(...args); running.push(e); return e; }

const AUTH = 'dhcp_failover_auth_failures_total';
const LINK_ERRORS = 'dhcp_failover_link_errors_total';
const CONNECT_REJECTS = 'dhcp_failover_connect_rejects_total';

/** A raw partner that completed the signed handshake and confirmed the link's key; sign with `key`, next request xid `xid`. */
async function established(e: Endpoint): Promise<Session> {
  const session = await openSession(e, { confirm: true });
  await until('endpoint link established', () => e.peer.status().connection.linkEstablished);
  return session;
}

function closedLine(lines: LogLine[], pattern: RegExp): LogLine | undefined {
  return lines.find((l) => l.event === 'failover.link.closed' && pattern.test(String(l.reason)));
}

/** The common tail of every case: nothing moved, and a good partner still gets in. */
async function unchangedAndStillServing(e: Endpoint, before: Fingerprint): Promise<void> {
  await e.peer.idle();
  assert.deepEqual(fingerprint(e), before, 'state, persisted record and leases unchanged');
  assert.equal(e.engine.leases.get(PROTECTED_LEASE.ip)?.state, 'active');
  const { connectack } = await goodPartnerConnects(e);
  assert.equal(connectack.type === 'CONNECTACK' ? connectack.rejectReason : 'not a CONNECTACK', undefined);
  await e.peer.idle();
  assert.deepEqual(fingerprint(e), before, 'a good partner that leaves before STATE changes nothing either');
}

function leaseFor(ip: string, over: Partial<Lease> = {}): Lease {
  const now = Date.now();
  return { ip: parseIpv4(ip), scope: RELATIONSHIP, state: 'active', hw: '1:0a0b0c0d0e0f', clientId: '010a0b0c0d0e0f', expiresAt: now + 3_600_000, cltt: now - 5_000, ...over };
}
function bndupd(lease: Lease): Body { return { type: 'BNDUPD', bindings: [bindingOf(lease, { now: Date.now(), dialect: 'isc' })] } as Body; }

/** Raw header: length, type, payload offset 12, time, xid. */
function header(length: number, type: number, xid = 1, time = nowSeconds()): Buffer {
  const b = Buffer.alloc(12); b.writeUInt16BE(length, 0); b[2] = type; b[3] = 12; b.writeUInt32BE(time, 4); b.writeUInt32BE(xid, 8); return b;
}
function option(code: number, value: Buffer): Buffer { const o = Buffer.alloc(4); o.writeUInt16BE(code, 0); o.writeUInt16BE(value.length, 2); return Buffer.concat([o, value]); }

describe('hostile failover peer: authentication (case 1)', () => {
  it('harness: a good partner with the secret is accepted and leaves the state alone', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    await unchangedAndStillServing(e, before);
    assert.equal(await counter(e, AUTH), 0);
    assert.deepEqual(await linkErrors(e), {});
  });

  for (const variant of ['missing', 'wrong secret', 'tampered'] as const) {
    it(`CONNECT with a ${variant} digest: no CONNECTACK, link closed, auth failure counted and logged, nothing changes`, async () => {
      const e = await endpoint();
      const before = fingerprint(e);
      const mark = logMark();
      const p = await RawPartner.open(e.port);
      let bytes = variant === 'missing' ? build(connectBody(), 1, { secret: null })
        : variant === 'wrong secret' ? build(connectBody(), 1, { secret: Buffer.from('not-the-secret') })
          : Buffer.from(build(connectBody(), 1));
      if (variant === 'tampered') bytes[8] = bytes[8]! ^ 0x01; // xid changed after signing
      p.write(bytes);
      await p.waitClosed();
      assert.deepEqual(p.messages().map((m) => m.type), [], 'nothing is sent back (no DISCONNECT, no CONNECTACK)');
      assert.equal(await counter(e, AUTH, { relationship: RELATIONSHIP }), 1);
      const line = logsSince(mark).find((l) => l.event === 'failover.link.auth_failed');
      assert.equal(line?.level, 'warn');
      assert.equal(line?.result, variant === 'missing' ? 'missing' : 'bad');
      assert.equal(line?.type, 'CONNECT');
      assert.ok(closedLine(logsSince(mark), /message digest (missing|bad)/), 'closed with the reason logged');
      assert.equal(e.peer.status().connection.linkEstablished, false);
      await unchangedAndStillServing(e, before);
      assert.equal(await counter(e, AUTH), 1, 'the good partner adds no auth failure');
    });
  }

  it('on an established link: an unsigned STATE and an unsigned BNDUPD are refused before they reach the state machine or the leases', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    for (const [i, body] of [
      { type: 'STATE', serverState: 4, serverFlags: 0, startTimeOfState: nowSeconds() } as Body, // "I am PARTNER-DOWN"
      bndupd(leaseFor('10.9.0.150', { state: 'released', cltt: Date.now() })), // release the protected lease
    ].entries()) {
      const mark = logMark();
      const { p, xid } = await established(e);
      p.write(build(body, xid, { secret: null }));
      await p.waitClosed();
      assert.equal(await counter(e, AUTH), i + 1);
      assert.ok(logsSince(mark).some((l) => l.event === 'failover.link.auth_failed' && l.result === 'missing' && l.type === body.type));
      assert.equal(e.peer.status().connection.up, false, 'communications never became OK');
      assert.deepEqual(p.messages().filter((m) => m.type === 'BNDACK'), [], 'no BNDACK for an unsigned update');
    }
    await unchangedAndStillServing(e, before);
  });

  it('a digest that is not the last option is a decode error (misplaced_digest): closed and counted as a link error', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const mark = logMark();
    const signed = build(connectBody(), 1);
    // Append a relationship-name option after the digest; fix the length.
    const extra = option(22, Buffer.from('x'));
    const moved = Buffer.concat([signed, extra]); moved.writeUInt16BE(moved.length, 0);
    const p = await RawPartner.open(e.port);
    p.write(moved);
    await p.waitClosed();
    assert.equal((await linkErrors(e)).misplaced_digest, 1);
    assert.ok(closedLine(logsSince(mark), /misplaced_digest/));
    await unchangedAndStillServing(e, before);
  });
});

describe('hostile failover peer: replay (case 2)', () => {
  // Draft-12's only replay defence is the header time (±60 s, checked on every message) plus strictly increasing
  // request xids per link (D12 §11.1): nothing ties a message to a link. Between two of our servers every link has
  // its own key from both sides' nonces (src/failover/link/session-key.ts), so a message recorded on one link fails the
  // digest on every other, and a replayed CONNECT gets a fresh nonce its sender cannot sign for.

  it('the same signed BNDUPD again on the same link is refused (xid not increasing): closed, counted, no second write', async () => {
    const e = await endpoint();
    const { p, xid, key } = await established(e);
    const update = build(bndupd(leaseFor('10.9.0.161')), xid, { secret: key });
    p.write(update);
    const ack = await p.waitFor('BNDACK');
    assert.ok(ack.type === 'BNDACK' && ack.acks[0]?.rejectReason === undefined);
    await e.peer.idle();
    const before = fingerprint(e);
    const mark = logMark();
    p.write(update);
    await p.waitClosed();
    assert.equal((await linkErrors(e)).xid_not_increasing, 1);
    assert.ok(closedLine(logsSince(mark), /xid_not_increasing/));
    await unchangedAndStillServing(e, before);
  });

  /** Legit session: CONNECT, BNDUPD(active, client A), then `more` (BNDUPDs), then gone. Returns the frames an eavesdropper kept. */
  async function legitSession(e: Endpoint, ip: string, more: Lease[]): Promise<Buffer[]> {
    const { p, key, connect } = await established(e);
    const active = build(bndupd(leaseFor(ip)), 3, { secret: key });
    p.write(active);
    await p.waitFor('BNDACK');
    for (const [i, l] of more.entries()) {
      p.write(build(bndupd(l), 4 + i, { secret: key }));
      await until('BNDACK', () => p.messages().filter((m) => m.type === 'BNDACK').length === 2 + i);
    }
    assert.ok(p.messages().filter((m) => m.type === 'BNDACK').every((m) => m.type === 'BNDACK' && m.acks[0]?.rejectReason === undefined));
    p.destroy();
    await until('legit link gone', () => !e.peer.status().connection.linkEstablished);
    await e.peer.idle();
    return [connect, active];
  }

  /** Replays recorded frames on a new link: the CONNECT is answered, the next frame fails the digest; nothing is applied. */
  async function replayRefused(e: Endpoint, frames: Buffer[]): Promise<void> {
    const before = fingerprint(e);
    const mark = logMark();
    const authBefore = await counter(e, AUTH);
    const r = await RawPartner.open(e.port);
    r.write(frames[0]!);
    const ack = await r.waitFor('CONNECTACK');
    assert.equal(ack.type === 'CONNECTACK' ? ack.rejectReason : -1, undefined, 'the replayed CONNECT itself verifies (signed with the secret, time within 60 s) and is answered with a fresh nonce');
    for (const f of frames.slice(1)) r.write(f);
    await r.waitClosed();
    assert.deepEqual(r.messages().map((m) => m.type), ['CONNECTACK'], 'no BNDACK, no STATE');
    assert.equal(await counter(e, AUTH), authBefore + 1, 'counted as an auth failure');
    const line = logsSince(mark).find((l) => l.event === 'failover.link.auth_failed');
    assert.equal(line?.result, 'bad');
    assert.match(String(line?.why), /session key/);
    assert.equal(logsSince(mark).filter((l) => l.event === 'failover.link.established').length, 0, 'the replayed link never became established');
    await unchangedAndStillServing(e, before);
  }

  it('a recorded CONNECT + BNDUPD replayed on a new link within 60 s: the BNDUPD fails the digest, closed, counted, nothing changes', async () => {
    const e = await endpoint();
    const frames = await legitSession(e, '10.9.0.162', []);
    await replayRefused(e, frames);
  });

  it('a recorded active BNDUPD replayed after this server\'s own client released the address: refused, the address stays free', async () => {
    const e = await endpoint();
    const ip = '10.9.0.163';
    const frames = await legitSession(e, ip, []);
    const released: Lease = { ...e.engine.leases.get(parseIpv4(ip))!, state: 'released', cltt: Date.now() };
    await e.engine.applyRemote([released]);
    await replayRefused(e, frames);
    assert.equal(e.engine.leases.get(parseIpv4(ip))?.state, 'released');
  });

  it('a recorded active BNDUPD replayed within 60 s after the partner RELEASED the address: refused, the lease is not resurrected', async () => {
    const e = await endpoint();
    const ip = '10.9.0.164';
    const frames = await legitSession(e, ip, [leaseFor(ip, { state: 'released', cltt: Date.now() })]);
    assert.equal(e.engine.leases.get(parseIpv4(ip))?.state, 'free');
    await replayRefused(e, frames);
    assert.equal(e.engine.leases.get(parseIpv4(ip))?.state, 'free');
  });

  it('a recorded active BNDUPD (client A) replayed within 60 s after the address went to client B: refused, B keeps it', async () => {
    const e = await endpoint();
    const ip = '10.9.0.165';
    const b = leaseFor(ip, { hw: '1:0b0b0b0b0b0b', clientId: '010b0b0b0b0b0b', cltt: Date.now() });
    const frames = await legitSession(e, ip, [leaseFor(ip, { state: 'released', cltt: Date.now() - 1000 }), b]);
    assert.equal(e.engine.leases.get(parseIpv4(ip))?.clientId, '010b0b0b0b0b0b');
    await replayRefused(e, frames);
    assert.equal(e.engine.leases.get(parseIpv4(ip))?.clientId, '010b0b0b0b0b0b');
  });

  it('a replayed CONNECT alone holds no link: the real partner still gets in while it sits unconfirmed, and it is closed by the handshake timeout', async () => {
    const e = await endpoint();
    const frames = await legitSession(e, '10.9.0.166', []);
    const before = fingerprint(e);
    const r = await RawPartner.open(e.port);
    r.write(frames[0]!);
    await r.waitFor('CONNECTACK');
    assert.equal(e.peer.status().connection.linkEstablished, false, 'answered, not established');
    const { elapsedMs } = await goodPartnerConnects(e);
    assert.ok(elapsedMs < 2000, `the real partner got in after ${elapsedMs} ms`);
    await r.waitClosed(HANDSHAKE_TIMEOUT_MS + 2000);
    assert.ok(((await linkErrors(e)).handshake_timeout ?? 0) >= 1, JSON.stringify(await linkErrors(e)));
    await unchangedAndStillServing(e, before);
  });

  it('a CONNECT signed with the secret but without a session nonce (a draft-12 style partner, or one recorded from it): refused with reason 20, counted as an auth failure', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const mark = logMark();
    const p = await RawPartner.open(e.port);
    p.write(build(connectBody(null), 1));
    const ack = await p.waitFor('CONNECTACK');
    assert.equal(ack.type === 'CONNECTACK' ? ack.rejectReason : -1, 20);
    assert.match(ack.type === 'CONNECTACK' ? String(ack.message) : '', /session nonce/);
    await p.waitClosed();
    assert.equal(await counter(e, AUTH), 1);
    assert.ok(logsSince(mark).some((l) => l.event === 'failover.link.auth_failed' && l.result === 'no_session_nonce'));
    await unchangedAndStillServing(e, before);
  });

  it('a captured CONNECT replayed more than 60 s later is refused for clock skew (reason 4): counted, logged, nothing changes', async () => {
    const e = await endpoint();
    const connect = build(connectBody(), 1);
    const before = fingerprint(e);
    const mark = logMark();
    e.clock.offsetMs = 120_000; // the endpoint's clock is now 2 minutes after the capture
    try {
      const replay = await RawPartner.open(e.port);
      replay.write(connect);
      const ack = await replay.waitFor('CONNECTACK');
      assert.equal(ack.type === 'CONNECTACK' ? ack.rejectReason : -1, 4);
      await replay.waitClosed();
      assert.equal(await counter(e, CONNECT_REJECTS, { reason: '4' }), 1);
      assert.ok(logsSince(mark).some((l) => l.event === 'failover.clock_skew' && l.level === 'error'));
      assert.ok(logsSince(mark).some((l) => l.event === 'failover.connect.rejected' && l.rejectReason === 4));
    } finally { e.clock.offsetMs = 0; }
    await unchangedAndStillServing(e, before);
  });
});

describe('hostile failover peer: out of order (case 3)', () => {
  for (const [name, body] of [
    ['BNDUPD', bndupd(leaseFor('10.9.0.150', { state: 'released', cltt: Date.now() + 1000 }))],
    ['STATE', { type: 'STATE', serverState: 4, serverFlags: 0, startTimeOfState: nowSeconds() } as Body],
    ['UPDREQALL', { type: 'UPDREQALL' } as Body],
  ] as const) {
    it(`a signed ${name} before CONNECT: closed (expected_connect), counted, logged, nothing changes`, async () => {
      const e = await endpoint();
      const before = fingerprint(e);
      const mark = logMark();
      const p = await RawPartner.open(e.port);
      p.write(build(body, 1));
      await p.waitClosed();
      assert.deepEqual(p.messages(), []);
      assert.equal((await linkErrors(e)).expected_connect, 1);
      assert.ok(closedLine(logsSince(mark), /expected_connect: \w+ before CONNECT/));
      await unchangedAndStillServing(e, before);
    });
  }

  it('a second CONNECT on an established link: closed (handshake_repeated), counted', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const mark = logMark();
    const { p, xid, key } = await established(e);
    p.write(build(connectBody(), xid, { secret: key }));
    await p.waitClosed();
    assert.equal((await linkErrors(e)).handshake_repeated, 1);
    assert.ok(closedLine(logsSince(mark), /handshake_repeated/));
    await unchangedAndStillServing(e, before);
  });

  it('UPDDONE without an UPDREQ and BNDACK for an unknown xid are ignored: the link stays up, nothing changes', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const mark = logMark();
    const { p, xid, key } = await established(e);
    p.write(build({ type: 'UPDDONE' } as Body, 4242, { secret: key }));
    p.write(build({ type: 'BNDACK', acks: [{ assignedIpAddress: PROTECTED_LEASE.ip }] } as Body, 777_777, { secret: key }));
    p.write(build({ type: 'BNDACK', acks: [{ assignedIpAddress: PROTECTED_LEASE.ip, rejectReason: 2 }] } as Body, 777_778, { secret: key }));
    p.write(build({ type: 'CONTACT' } as Body, xid, { secret: key })); // a request after them proves the link still reads
    await until('BNDACKs handled', () => logsSince(mark).filter((l) => l.event === 'failover.bndack.unmatched').length === 2);
    await e.peer.idle();
    assert.equal(p.closed, false, 'ignored, not fatal');
    assert.equal(e.peer.status().connection.linkEstablished, true);
    assert.equal(await counter(e, 'dhcp_failover_updates_acked_total'), 0);
    assert.equal(await counter(e, 'dhcp_failover_updates_rejected_total'), 0);
    assert.deepEqual(fingerprint(e), before);
    p.destroy();
    await until('link gone', () => !e.peer.status().connection.linkEstablished);
    await unchangedAndStillServing(e, before);
  });

  it('an unsolicited UPDDONE and an unmatched BNDACK are counted and logged',
    async () => {
      const e = await endpoint();
      const mark = logMark();
      const { p, xid, key } = await established(e);
      p.write(build({ type: 'UPDDONE' } as Body, 4242, { secret: key }));
      p.write(build({ type: 'BNDACK', acks: [{ assignedIpAddress: PROTECTED_LEASE.ip }] } as Body, 777_777, { secret: key }));
      p.write(build({ type: 'CONTACT' } as Body, xid, { secret: key }));
      await sleep(300);
      await e.peer.idle();
      p.destroy();
      const counted = Object.values(await linkErrors(e)).reduce((a, b) => a + b, 0);
      assert.ok(counted >= 2, `link errors counted: ${counted}`);
      const errors = await linkErrors(e);
      assert.equal(errors.unsolicited_upddone, 1, JSON.stringify(errors));
      assert.equal(errors.unmatched_bndack, 1, JSON.stringify(errors));
      const lines = logsSince(mark).filter((l) => /upddone\.unsolicited|bndack\.unmatched/.test(l.event));
      assert.deepEqual(lines.map((l) => l.event).sort(), ['failover.bndack.unmatched', 'failover.upddone.unsolicited']);
    });
});

describe('hostile failover peer: malformed frames (case 4)', () => {
  const cases: [string, () => Buffer, string][] = [
    ['a length field of 65535 followed by 64 KiB', () => Buffer.concat([header(65_535, 5), Buffer.alloc(65_535 - 12, 0x41)]), 'bad_length'],
    ['a length field of 2049 (one over the maximum)', () => Buffer.concat([header(2049, 5), Buffer.alloc(2049 - 12)]), 'bad_length'],
    ['a length field below the header size', () => Buffer.from([0x00, 0x05, 0x05, 0x0c]), 'bad_length'],
    ['an option that overflows the declared length', () => { const o = Buffer.alloc(4); o.writeUInt16BE(22, 0); o.writeUInt16BE(100, 2); return Buffer.concat([header(16 + 3, 5), o, Buffer.from('abc')]); }, 'bad_option_length'],
    ['a declared length shorter than the signed message (the rest read as the next frame)', () => { const m = Buffer.from(build(connectBody(), 1)); m.writeUInt16BE(m.length - 10, 0); return m; }, '.'],
    ['an unknown message type (99)', () => header(12, 99), 'unknown_message_type'],
    ['message type 0', () => header(12, 0), 'unknown_message_type'],
    ['a payload offset past the end', () => { const h = header(12, 5); h[3] = 200; return h; }, 'bad_header'],
    ['a duplicate relationship-name', () => { const o = Buffer.concat([option(22, Buffer.from('a')), option(22, Buffer.from('b'))]); return Buffer.concat([header(12 + o.length, 5), o]); }, 'duplicate_option'],
  ];
  for (const [name, bytes, reason] of cases) {
    it(`${name}: closed with a logged reason, counted, never a crash`, async () => {
      const e = await endpoint();
      const before = fingerprint(e);
      const mark = logMark();
      const errorsBefore = await counter(e, LINK_ERRORS);
      const p = await RawPartner.open(e.port);
      p.write(bytes());
      await p.waitClosed();
      const errs = await linkErrors(e);
      assert.equal(await counter(e, LINK_ERRORS) + await counter(e, AUTH), errorsBefore + 1, `exactly one problem counted: ${JSON.stringify(errs)}`);
      if (reason !== '.') assert.equal(errs[reason], 1, JSON.stringify(errs));
      const closed = logsSince(mark).find((l) => l.event === 'failover.link.closed');
      assert.match(String(closed?.reason), reason === '.' ? /protocol error|message digest/ : new RegExp(reason));
      assert.equal(logsSince(mark).filter((l) => l.event === 'failover.link.handler_failed').length, 0, 'no handler bug');
      await unchangedAndStillServing(e, before);
    });
  }

  it('a frame that declares more than it sends, on an established link: held only until max-response-delay, then DISCONNECT 17', async () => {
    const e = await endpoint({ maxResponseDelaySeconds: 2 });
    const before = fingerprint(e);
    const mark = logMark();
    const { p } = await established(e);
    const t0 = Date.now();
    p.write(Buffer.concat([header(400, 11), Buffer.alloc(100)])); // 112 of 400 bytes
    await sleep(500);
    assert.equal(p.closed, false, 'a partial frame alone is not an error');
    await p.waitClosed(4000);
    const took = Date.now() - t0;
    assert.ok(took >= 1500 && took < 3500, `closed after ${took} ms`);
    const disconnect = p.messages().find((m) => m.type === 'DISCONNECT');
    assert.equal(disconnect?.type === 'DISCONNECT' ? disconnect.rejectReason : undefined, 17);
    assert.ok(closedLine(logsSince(mark), /max-response-delay/));
    await unchangedAndStillServing(e, before);
  });

  it('an unknown option code in a signed CONNECT is skipped (logged at debug): the handshake proceeds', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const mark = logMark();
    const plain = build(connectBody(), 1, { secret: null });
    const withUnknown = Buffer.concat([plain, option(200, Buffer.from([1, 2, 3]))]); withUnknown.writeUInt16BE(withUnknown.length, 0);
    const p = await RawPartner.open(e.port);
    p.write(signMessage(withUnknown, SECRET));
    const ack = await p.waitFor('CONNECTACK');
    assert.equal(ack.type === 'CONNECTACK' ? ack.rejectReason : -1, undefined);
    assert.ok(logsSince(mark).some((l) => l.event === 'failover.message.options_skipped' && JSON.stringify(l.codes) === '[200]'));
    p.destroy();
    await until('link gone', () => !e.peer.status().connection.linkEstablished);
    await unchangedAndStillServing(e, before);
  });

  it('an unknown option code in an unsigned CONNECT is still an auth failure', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const plain = build(connectBody(), 1, { secret: null });
    const withUnknown = Buffer.concat([plain, option(200, Buffer.from([1, 2, 3]))]); withUnknown.writeUInt16BE(withUnknown.length, 0);
    const p = await RawPartner.open(e.port);
    p.write(withUnknown);
    await p.waitClosed();
    assert.equal(await counter(e, AUTH), 1);
    await unchangedAndStillServing(e, before);
  });
});

describe('hostile failover peer: slow loris (case 5)', () => {
  it(`1 byte per second of a CONNECT header before the handshake: closed by the ${HANDSHAKE_TIMEOUT_MS / 1000} s handshake timeout`, async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const mark = logMark();
    const p = await RawPartner.open(e.port);
    const bytes = build(connectBody(), 1);
    const t0 = Date.now();
    for (let i = 0; i < bytes.length - 1 && !p.closed && Date.now() - t0 < HANDSHAKE_TIMEOUT_MS + 5000; i++) {
      p.write(bytes.subarray(i, i + 1));
      await sleep(1000);
    }
    await p.waitClosed(2000);
    const took = p.closedAt - t0;
    assert.ok(took >= HANDSHAKE_TIMEOUT_MS - 500 && took < HANDSHAKE_TIMEOUT_MS + 2000, `closed after ${took} ms`);
    assert.ok(closedLine(logsSince(mark), /handshake timeout/), 'closed with a logged reason');
    await unchangedAndStillServing(e, before);
  });

  it('a slow-loris close is counted (receive_timeout)', async () => {
    const e = await endpoint({ maxResponseDelaySeconds: 1 });
    const { p } = await established(e);
    p.write(header(100, 11).subarray(0, 5));
    await p.waitClosed(3000);
    assert.ok((await counter(e, LINK_ERRORS)) >= 1);
    assert.ok(((await linkErrors(e)).receive_timeout ?? 0) >= 1, JSON.stringify(await linkErrors(e)));
  });
});

describe('hostile failover peer: connection flood (case 6)', () => {
  async function flood(e: Endpoint, from: string, n: number, hold: boolean): Promise<{ socks: RawPartner[]; refusedFast: number }> {
    const socks: RawPartner[] = [];
    for (let i = 0; i < n; i++) {
      const p = new RawPartner(e.port, from);
      socks.push(p);
      if (!hold) p.socket.on('connect', () => p.destroy());
      if (i % 20 === 19) await sleep(5);
    }
    await until('every flood socket connected or closed', () => socks.every((s) => s.connected || s.closed), 10_000);
    await sleep(200);
    return { socks, refusedFast: socks.filter((s) => s.closed).length };
  }

  it('200 connections from a stranger address: all refused at once and counted, links stay bounded, memory flat, a good partner gets in', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const mark = logMark();
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    let maxLinks = 0;
    const sampler = setInterval(() => { maxLinks = Math.max(maxLinks, linkCount(e)); }, 2);
    const flooding = flood(e, STRANGER_ADDRESS, 200, true);
    // A good partner while the flood is still being opened.
    await sleep(5);
    const during = await goodPartnerConnects(e);
    const { socks } = await flooding;
    await until('all stranger sockets closed by the endpoint', () => socks.every((s) => s.closed), 5000);
    clearInterval(sampler);
    const refused = (await linkErrors(e)).refused ?? 0;
    const logged = logsSince(mark).filter((l) => l.event === 'failover.listen.refused' && l.remote === STRANGER_ADDRESS).length;
    assert.ok(maxLinks <= MAX_INBOUND_SOCKETS + 1, `links peaked at ${maxLinks}`);
    assert.equal(refused, logged, 'every refusal is both counted and logged');
    assert.ok(refused >= 150, `refused ${refused} of 200 (the rest may be dropped by server.maxConnections before accept)`);
    global.gc?.();
    const grew = process.memoryUsage().heapUsed - heap0;
    assert.ok(grew < 30 * 1024 * 1024, `heap grew ${grew} bytes`);
    assert.ok(during.elapsedMs < 2000, `good partner took ${during.elapsedMs} ms during the flood`);
    await unchangedAndStillServing(e, before);
    console.log(`# stranger flood: refused+counted ${refused}/200, links peak ${maxLinks}, good partner ${during.elapsedMs} ms, heap ${(grew / 1e6).toFixed(1)} MB`);
  });

  it('200 silent connections from the partner address: at most 4 held, the rest refused and counted; after the flood a good partner gets in at once', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    let maxLinks = 0;
    const sampler = setInterval(() => { maxLinks = Math.max(maxLinks, linkCount(e)); }, 2);
    const { socks } = await flood(e, PARTNER_ADDRESS, 200, true);
    clearInterval(sampler);
    const open = socks.filter((s) => !s.closed).length;
    const refused = (await linkErrors(e)).refused ?? 0;
    assert.ok(open <= MAX_INBOUND_SOCKETS, `${open} flood sockets still open`);
    assert.ok(maxLinks <= MAX_INBOUND_SOCKETS + 1, `links peaked at ${maxLinks}`);
    assert.ok(refused >= 150, `refused and counted ${refused}`);
    // The flood stops: the attacker closes its sockets.
    for (const s of socks) s.destroy();
    await until('flood links released', () => linkCount(e) === 0 || e.peer.status().connection.linkEstablished, 3000);
    const after = await goodPartnerConnects(e);
    assert.ok(after.elapsedMs < 2000, `good partner needed ${after.elapsedMs} ms after the flood`);
    await unchangedAndStillServing(e, before);
    console.log(`# partner-address flood: held ${open}, refused+counted ${refused}/200, links peak ${maxLinks}, good partner after ${after.elapsedMs} ms`);
  });

  it(`${MAX_INBOUND_SOCKETS} silent sockets from the partner address: the good partner evicts the oldest and gets in at once (counted), and our own dial resumes`, async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    // Stand in for the partner's listener so we can see the endpoint's own dials (each accepted socket is dropped at once).
    let dials = 0;
    const partnerListener = net.createServer((s) => { dials++; s.destroy(); });
    await new Promise<void>((r) => partnerListener.listen(e.config.partner.port, PARTNER_ADDRESS, r));
    const held: RawPartner[] = [];
    try {
      await sleep(2500);
      assert.ok(dials >= 1, `the endpoint dials its partner when idle (${dials} dials in 2.5 s)`);
      for (let i = 0; i < MAX_INBOUND_SOCKETS; i++) held.push(await RawPartner.open(e.port));
      await sleep(100);
      const dialsAtHold = dials;
      const refusedBefore = (await linkErrors(e)).refused ?? 0;
      const t0 = Date.now();
      await goodPartnerConnects(e, 3000);
      const admittedAfterMs = Date.now() - t0;
      const evicted = ((await linkErrors(e)).refused ?? 0) - refusedBefore;
      assert.ok(admittedAfterMs < 2000, `the good partner got in after ${admittedAfterMs} ms`);
      assert.ok(evicted >= 1, `the eviction is counted (${evicted})`);
      assert.ok(held.filter((s) => s.closed).length >= 1, 'the oldest held socket was closed');
      // Silent handshakes older than the grace period do not stop our own dial either.
      await until('the endpoint dials while sockets are held', () => dials > dialsAtHold, 12_000);
      console.log(`# starvation: good partner admitted after ${admittedAfterMs} ms, ${evicted} evictions counted; endpoint dials while held: ${dials - dialsAtHold}`);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => partnerListener.close(() => r()));
    }
    await unchangedAndStillServing(e, before);
  });
});

describe('hostile failover peer: garbage (case 7)', () => {
  it('1 MB of pseudo-random bytes (and 20 more seeds, 50 KB each): every stream closed and counted, no crash', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const mark = logMark();
    const streams: [number, number][] = [[1_000_000, 1], ...Array.from({ length: 20 }, (_, i) => [50_000, 1000 + i] as [number, number])];
    // Seeds whose first two bytes form a plausible length go through framing to the decoder.
    streams.push([50_000, 0]);
    let sent = 0;
    for (const [size, seed] of streams) {
      const bytes = seed === 0 ? Buffer.concat([header(64, 5), pseudoRandomBytes(size - 12, 7)]) : pseudoRandomBytes(size, seed);
      const p = await RawPartner.open(e.port);
      for (let off = 0; off < bytes.length && !p.closed; off += 65_536) { p.write(bytes.subarray(off, off + 65_536)); sent += Math.min(65_536, bytes.length - off); await sleep(0); }
      // A stream of garbage that never forms a bad frame can only sit in the handshake: bounded by the timeout.
      await p.waitClosed(HANDSHAKE_TIMEOUT_MS + 2000);
      p.destroy();
    }
    const problems = (await counter(e, LINK_ERRORS)) + (await counter(e, AUTH));
    assert.equal(problems, streams.length, `problems counted ${problems} for ${streams.length} streams: ${JSON.stringify(await linkErrors(e))}`);
    assert.equal(logsSince(mark).filter((l) => l.event === 'failover.link.closed').length, streams.length);
    assert.equal(logsSince(mark).filter((l) => l.event === 'failover.link.handler_failed').length, 0, 'no handler bug');
    assert.ok(sent >= 1_000_000 / 100, `sent ${sent}`);
    await unchangedAndStillServing(e, before);
  });

  it('garbage after the handshake on an established link: closed, counted, state and leases unchanged', async () => {
    const e = await endpoint();
    const before = fingerprint(e);
    const { p } = await established(e);
    p.write(pseudoRandomBytes(100_000, 42));
    await p.waitClosed();
    assert.equal(await counter(e, LINK_ERRORS) + await counter(e, AUTH), 1);
    await unchangedAndStillServing(e, before);
  });
});
