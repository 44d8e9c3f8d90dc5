// Real ISC dhcpd 4.4.3-P1 messages captured by test/fixtures/failover/capture.sh.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DecodeError } from '../../../src/errors.ts';
import { FrameReader } from '../../../src/failover/wire/framing.ts';
import { decodeFailoverMessage, encodeFailoverMessage, type FailoverMessage } from '../../../src/failover/wire/message.ts';
import { bindingStateOf } from '../../../src/failover/wire/dialect.ts';
import { serverStateFromWire } from '../../../src/failover/wire/options.ts';
import { verifyMessage } from '../../../src/failover/wire/auth.ts';
import { decodeOrDecodeError, plain } from './helpers.ts';

interface Captured { readonly sender: 'primary' | 'secondary'; readonly type: string; readonly bytes: Buffer }
const SESSION: readonly Captured[] = readFileSync(new URL('../../fixtures/failover/isc-4.4.3-session.txt', import.meta.url), 'utf8')
  .split('\n').filter((l) => l.length > 0 && !l.startsWith('#'))
  .map((l) => { const [sender, type, hex] = l.split(' ') as [Captured['sender'], string, string]; return { sender, type, bytes: Buffer.from(hex, 'hex') }; });

const decoded = (type: string): FailoverMessage[] => SESSION.filter((c) => c.type === type).map((c) => decodeFailoverMessage(c.bytes));

describe('ISC dhcpd 4.4.3 capture', () => {
  it('has the handshake, sync, binding and keepalive messages', () => {
    const types = new Set(SESSION.map((c) => c.type));
    for (const t of ['CONNECT', 'CONNECTACK', 'STATE', 'UPDREQALL', 'UPDDONE', 'BNDUPD', 'BNDACK', 'CONTACT']) assert.ok(types.has(t), t);
  });
  for (const [i, c] of SESSION.entries()) {
    it(`#${i} ${c.sender} ${c.type}: decodes with nothing skipped, re-encodes to the same bytes, truncations fail cleanly`, () => {
      const m = decodeFailoverMessage(c.bytes);
      assert.equal(m.type, c.type);
      assert.equal(m.skipped, undefined);
      assert.deepEqual(encodeFailoverMessage(m, { dialect: 'isc' }).toString('hex'), c.bytes.toString('hex'));
      assert.equal(verifyMessage(c.bytes, 'any'), 'missing', 'ISC never sends a digest');
      for (let n = 0; n < c.bytes.length; n++) assert.ok(decodeOrDecodeError(c.bytes.subarray(0, n)) instanceof DecodeError);
    });
  }
  it('CONNECT carries what the config says (digest §1.5) and CONNECTACK accepts', () => {
    const [connect] = decoded('CONNECT');
    assert.ok(connect?.type === 'CONNECT');
    assert.equal(connect.relationshipName, 'fw-lab');
    assert.equal(connect.mclt, 30);
    assert.equal(connect.receiveTimer, 6);
    assert.equal(connect.maxUnackedBndupd, 10);
    assert.equal(connect.protocolVersion, 1);
    assert.equal(connect.tlsRequest, 0);
    assert.match(connect.vendorClassIdentifier ?? '', /^isc-4\.4\.3/);
    assert.equal(connect.hba?.toString('hex'), 'ff'.repeat(16) + '00'.repeat(16), 'split 128, ISC polarity');
    const [ack] = decoded('CONNECTACK');
    assert.ok(ack?.type === 'CONNECTACK');
    assert.equal(ack.rejectReason, undefined);
    assert.equal(ack.xid, connect.xid);
    assert.equal(ack.tlsReply, 0);
  });
  it('STATE values are known states; the first carry the STARTUP flag', () => {
    const states = decoded('STATE');
    for (const s of states) assert.ok(s.type === 'STATE' && serverStateFromWire(s.serverState) !== undefined);
    assert.ok(states.some((s) => s.type === 'STATE' && s.serverFlags === 1 && serverStateFromWire(s.serverState) === 'recover'));
    assert.ok(states.some((s) => s.type === 'STATE' && serverStateFromWire(s.serverState) === 'normal'));
  });
  it('BNDUPDs are single transactions with ISC binding statuses; the client lease is ACTIVE with chaddr and client-id', () => {
    const updates = decoded('BNDUPD');
    const states = new Set<string | undefined>();
    for (const u of updates) {
      assert.ok(u.type === 'BNDUPD' && u.bindings.length === 1);
      states.add(bindingStateOf(u.bindings[0]!, 'isc'));
    }
    assert.ok(!states.has(undefined));
    assert.ok(states.has('free') && states.has('backup') && states.has('active'), [...states].join(','));
    const active = updates.flatMap((u) => (u.type === 'BNDUPD' ? u.bindings : [])).find((b) => bindingStateOf(b, 'isc') === 'active');
    assert.equal(active?.clientHardwareAddress?.htype, 1);
    assert.ok(active?.clientIdentifier !== undefined && active.leaseExpirationTime !== undefined && active.potentialExpirationTime !== undefined);
    assert.ok(active.potentialExpirationTime! >= active.leaseExpirationTime!);
  });
  it('every BNDACK answers a BNDUPD of the other side with the same xid and address', () => {
    for (const [i, c] of SESSION.entries()) {
      if (c.type !== 'BNDACK') continue;
      const ack = decodeFailoverMessage(c.bytes);
      assert.ok(ack.type === 'BNDACK');
      const upd = SESSION.slice(0, i).map((x) => ({ x, m: decodeFailoverMessage(x.bytes) }))
        .find(({ x, m }) => x.sender !== c.sender && m.type === 'BNDUPD' && m.xid === ack.xid);
      assert.ok(upd?.m.type === 'BNDUPD', `no BNDUPD for BNDACK xid ${ack.xid}`);
      assert.equal(upd.m.bindings[0]!.assignedIpAddress, ack.acks[0]!.assignedIpAddress);
    }
  });
  for (const sender of ['primary', 'secondary'] as const) {
    it(`FrameReader splits the ${sender}'s stream fed whole and byte by byte`, () => {
      const msgs = SESSION.filter((c) => c.sender === sender).map((c) => c.bytes);
      const stream = Buffer.concat(msgs);
      assert.deepEqual(new FrameReader().push(stream).map((b) => b.toString('hex')), msgs.map((b) => b.toString('hex')));
      const fr = new FrameReader();
      const out: string[] = [];
      for (let i = 0; i < stream.length; i++) for (const b of fr.push(stream.subarray(i, i + 1))) out.push(b.toString('hex'));
      assert.deepEqual(out, msgs.map((b) => b.toString('hex')));
      assert.deepEqual(plain(msgs.map((b) => decodeFailoverMessage(b))), plain(out.map((h) => decodeFailoverMessage(Buffer.from(h, 'hex')))));
    });
  }
});
