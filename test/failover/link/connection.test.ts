import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { systemClock, type Clock } from '../../../src/clock.ts';
import { FailoverTransport } from '../../../src/failover/link/connection.ts';
import { VENDOR_CLASS } from '../../../src/failover/link/handshake.ts';
import { checkDigest } from '../../../src/failover/link/link-keys.ts';
import type { LinkSettings, PartnerParams } from '../../../src/failover/link/link-params.ts';
import type { Link } from '../../../src/failover/link/link.ts';
import { newNonce, nonceOf, nonceOptions, sessionKey } from '../../../src/failover/link/session-key.ts';
import { FrameReader } from '../../../src/failover/wire/framing.ts';
import { decodeFailoverMessage, encodeFailoverMessage, type FailoverMessage } from '../../../src/failover/wire/message.ts';
import { bucketMapForSplit } from '../../../src/failover/rules/load-balance.ts';
import { skewedClock } from '../../fakes/fake-clock.ts';

let nextPort = 20_000 + (process.pid % 20_000);
const ports = (): [number, number] => [nextPort++, nextPort++];

interface Side {
  transport: FailoverTransport;
  established: PartnerParams[];
  messages: FailoverMessage[];
  closed: string[];
  problems: { kind: string; detail: Record<string, unknown> }[];
  link?: Link;
}

function side(settings: LinkSettings, clock: Clock = systemClock): Side {
  const s: Side = { established: [], messages: [], closed: [], problems: [] } as unknown as Side;
  s.transport = new FailoverTransport(settings, clock, {
    established: (link, p) => { s.link = link; s.established.push(p); },
    message: (_l, m) => s.messages.push(m),
    closed: (_l, reason) => s.closed.push(reason),
    problem: (kind, detail) => s.problems.push({ kind, detail }),
  });
  return s;
}

function settingsPair(over: { p?: Partial<LinkSettings>; s?: Partial<LinkSettings> } = {}): [LinkSettings, LinkSettings] {
  const [pp, sp] = ports();
  const common = { relationship: 'lab', dialect: 'isc' as const, sessionKeys: true, localAddress: '127.0.0.1', partnerAddress: '127.0.0.1', maxUnacked: 10, receiveTimerSeconds: 30, mcltSeconds: 600, hba: bucketMapForSplit(128), backoffMs: { min: 50, max: 200 } };
  return [
    { ...common, role: 'primary', localPort: pp, partnerPort: sp, ...over.p },
    { ...common, role: 'secondary', localPort: sp, partnerPort: pp, ...over.s },
  ];
}

async function until(what: string, test: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const started: FailoverTransport[] = [];
async function start(...sides: Side[]): Promise<void> { for (const s of sides) { started.push(s.transport); await s.transport.start(); } }
after(async () => { for (const t of started) await t.stop(); });

describe('FailoverTransport', () => {
  it('handshake: CONNECT/CONNECTACK, the secondary adopts MCLT and HBA, messages flow both ways', async () => {
    const [ps, ss] = settingsPair();
    const p = side(ps), s = side(ss);
    await start(p, s);
    await until('both established', () => p.established.length > 0 && s.established.length > 0);
    assert.equal(s.established[0]?.mcltSeconds, 600);
    assert.equal(s.established[0]?.hba?.length, 32);
    assert.equal(p.established[0]?.maxUnacked, 10);
    assert.ok(Math.abs(p.established[0]?.skewSeconds ?? 99) <= 1);
    p.link?.send({ type: 'STATE', serverState: 2 });
    s.link?.send({ type: 'UPDREQ' });
    await until('messages', () => s.messages.length > 0 && p.messages.length > 0);
    assert.equal(s.messages[0]?.type, 'STATE');
    assert.equal(p.messages[0]?.type, 'UPDREQ');
    await p.transport.stop(); await s.transport.stop();
  });

  it('rejects a different relationship name (reason 8): no link comes up', async () => {
    const [ps, ss] = settingsPair({ s: { relationship: 'other' } });
    const p = side(ps), s = side(ss);
    await start(p, s);
    await until('rejection', () => s.problems.some((x) => x.kind === 'rejected' && x.detail.reason === 8));
    assert.ok(p.problems.some((x) => x.kind === 'rejected' && x.detail.reason === 8 && x.detail.by === 'partner'));
    assert.equal(p.established.length + s.established.length, 0);
    await p.transport.stop(); await s.transport.stop();
  });

  it('rejects clock skew over 60 s with reason 4 and counts it', async () => {
    const [ps, ss] = settingsPair();
    const p = side(ps, skewedClock(120_000)), s = side(ss);
    await start(p, s);
    await until('skew rejection', () => s.problems.some((x) => x.kind === 'skew' && x.detail.reason === 4));
    assert.equal(s.established.length, 0);
    await p.transport.stop(); await s.transport.stop();
  });

  it('clocks drifting apart after the handshake: skew tracked per message, link closed with reason 4 past 60 s', async () => {
    const [ps, ss] = settingsPair();
    let offsetMs = 0;
    const drifting: Clock = { now: () => Date.now() + offsetMs, setTimer: systemClock.setTimer };
    const p = side(ps, drifting), s = side(ss);
    await start(p, s);
    await until('both established', () => p.established.length > 0 && s.established.length > 0);
    offsetMs = 30_000;
    p.link?.send({ type: 'STATE', serverState: 2 });
    await until('skew measured on the secondary', () => Math.abs(s.link?.skewSeconds ?? 0) >= 29);
    assert.ok(!s.closed.some((r) => /skew/.test(r)), `30 s is tolerated (closed: ${s.closed.join('; ')})`);
    offsetMs = 90_000;
    p.link?.send({ type: 'STATE', serverState: 3 });
    await until('link refused for skew', () => s.problems.some((x) => x.kind === 'skew' && x.detail.reason === 4) && s.closed.some((r) => /skew/.test(r)));
    assert.match(s.closed.find((r) => /skew/.test(r)) ?? '', /clock skew -9\d s exceeds 60 s/);
    await p.transport.stop(); await s.transport.stop();
  });

  it('a wrong shared secret is an auth failure: link closed, never established', async () => {
    const [ps, ss] = settingsPair({ p: { secret: Buffer.from('right') }, s: { secret: Buffer.from('wrong') } });
    const p = side(ps), s = side(ss);
    await start(p, s);
    await until('auth failure', () => s.problems.some((x) => x.kind === 'auth'));
    assert.equal(s.established.length + p.established.length, 0);
    await p.transport.stop(); await s.transport.stop();
  });

  it('the same secret on both sides works; the secondary establishes only on the first message under the session key', async () => {
    const [ps, ss] = settingsPair({ p: { secret: Buffer.from('k') }, s: { secret: Buffer.from('k') } });
    const p = side(ps), s = side(ss);
    await start(p, s);
    await until('primary established', () => p.established.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.established.length, 0, 'CONNECTACK sent, but the key is not confirmed yet');
    p.link?.send({ type: 'STATE', serverState: 2 });
    await until('secondary established, then the STATE delivered', () => s.established.length === 1 && s.messages.some((m) => m.type === 'STATE'));
    s.link?.send({ type: 'STATE', serverState: 2 });
    await until('primary got the secondary\'s STATE', () => p.messages.some((m) => m.type === 'STATE'));
    assert.deepEqual([...s.problems, ...p.problems].filter((x) => x.kind === 'auth'), []);
    await p.transport.stop(); await s.transport.stop();
  });

  it('session keys on one side only: the CONNECT without a nonce is refused with reason 20 and counted as an auth failure', async () => {
    const [ps, ss] = settingsPair({ p: { secret: Buffer.from('k'), sessionKeys: false }, s: { secret: Buffer.from('k') } });
    const p = side(ps), s = side(ss);
    await start(p, s);
    await until('refused', () => s.problems.some((x) => x.kind === 'auth' && x.detail.result === 'no_session_nonce')
      && p.problems.some((x) => x.kind === 'rejected' && x.detail.reason === 20));
    assert.equal(s.established.length + p.established.length, 0);
    await p.transport.stop(); await s.transport.stop();
  });

  it('a CONNECTACK recorded on an earlier link and replayed to the primary fails the digest: that link is never established', async () => {
    const secret = Buffer.from('k');
    const [ps] = settingsPair({ p: { secret } });
    const p = side(ps);
    let recorded: Buffer | undefined;
    const fakeSecondary = net.createServer((sock) => {
      const reader = new FrameReader();
      sock.on('error', () => undefined);
      sock.on('data', (d: Buffer) => {
        for (const frame of reader.push(d)) {
          const m = decodeFailoverMessage(frame);
          if (m.type !== 'CONNECT') continue;
          if (recorded !== undefined) { sock.write(recorded); continue; } // the replay, on a later link
          const ours = newNonce();
          const key = sessionKey(secret, nonceOf(m, VENDOR_CLASS)!, ours);
          recorded = encodeFailoverMessage({
            type: 'CONNECTACK', time: Math.floor(Date.now() / 1000), xid: m.xid, relationshipName: 'lab', maxUnackedBndupd: 10, receiveTimer: 30,
            vendorClassIdentifier: VENDOR_CLASS, protocolVersion: 1, vendorOptions: nonceOptions(ours),
          }, { dialect: 'isc', secret: key });
          sock.write(recorded);
          setTimeout(() => sock.destroy(), 100); // the legitimate link ends; the primary dials again
        }
      });
    });
    await new Promise<void>((r) => fakeSecondary.listen(ps.partnerPort, '127.0.0.1', r));
    try {
      await start(p);
      await until('the legitimate link established', () => p.established.length === 1);
      await until('the replayed CONNECTACK refused', () => p.problems.some((x) => x.kind === 'auth' && x.detail.result === 'bad' && x.detail.type === 'CONNECTACK'));
      assert.equal(p.established.length, 1, 'only the legitimate link was ever established');
    } finally {
      await p.transport.stop();
      await new Promise<void>((r) => fakeSecondary.close(() => r()));
    }
  });

  it('without session keys on either side (Microsoft dialect) a shared secret still works', async () => {
    const [ps, ss] = settingsPair({ p: { secret: Buffer.from('k'), sessionKeys: false }, s: { secret: Buffer.from('k'), sessionKeys: false } });
    const p = side(ps), s = side(ss);
    await start(p, s);
    await until('both established', () => p.established.length > 0 && s.established.length > 0);
    assert.deepEqual([...s.problems, ...p.problems].filter((x) => x.kind === 'auth'), []);
    await p.transport.stop(); await s.transport.stop();
  });

  it('hostile input closes that socket only; the listener keeps serving', async () => {
    const [, ss] = settingsPair({ s: { partnerPort: 1 } });
    const s = side(ss);
    await start(s);
    const now = Math.floor(Date.now() / 1000);
    const header = (type: number, length: number): Buffer => { const b = Buffer.alloc(12); b.writeUInt16BE(length); b[2] = type; b[3] = 12; b.writeUInt32BE(now, 4); b.writeUInt32BE(1, 8); return b; };
    const relationship = (name: string): Buffer => { const v = Buffer.from(name); const o = Buffer.alloc(4); o.writeUInt16BE(22); o.writeUInt16BE(v.length, 2); return Buffer.concat([o, v]); };
    const attacks = [
      Buffer.from([0x00, 0x05, 0x01]), // length < 12
      Buffer.from([0xff, 0xff]), // length > 2048
      header(99, 12), // unknown type
      encodeFailoverMessage({ type: 'BNDUPD', time: now, xid: 1, bindings: [{ assignedIpAddress: 1 as never, bindingStatus: 2 }] }, { dialect: 'isc' }), // not CONNECT first
      Buffer.concat([header(5, 12 + 10), relationship('a'), relationship('b')]), // duplicate option
    ];
    for (const bytes of attacks) {
      const sock = net.connect({ host: '127.0.0.1', port: ss.localPort, localAddress: '127.0.0.1' });
      let ended = false;
      sock.on('close', () => { ended = true; });
      sock.on('error', () => { ended = true; });
      await new Promise((r) => sock.once('connect', r));
      sock.write(bytes);
      await until('socket closed by server', () => ended);
    }
    assert.ok(s.problems.filter((x) => x.kind === 'protocol').length >= attacks.length);
    await s.transport.stop();
  });

  it('a silent partner is disconnected after max-response-delay (DISCONNECT reason 17)', async () => {
    const [, ss] = settingsPair({ s: { partnerPort: 1, receiveTimerSeconds: 1 } });
    const s = side(ss);
    await start(s);
    const sock = net.connect({ host: '127.0.0.1', port: ss.localPort, localAddress: '127.0.0.1' });
    const got: Buffer[] = [];
    let ended = false;
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('close', () => { ended = true; });
    await new Promise((r) => sock.once('connect', r));
    const now = Math.floor(Date.now() / 1000);
    sock.write(encodeFailoverMessage({ type: 'CONNECT', time: now, xid: 1, relationshipName: 'lab', mclt: 60, hba: Buffer.alloc(32), receiveTimer: 3600 }, { dialect: 'isc' }));
    await until('established', () => s.established.length === 1);
    await until('closed for silence', () => ended, 4000);
    const types = new FrameReader().push(Buffer.concat(got)).map((f) => decodeFailoverMessage(f));
    assert.deepEqual(types.map((m) => m.type), ['CONNECTACK', 'DISCONNECT']);
    const disconnect = types[1];
    assert.equal(disconnect?.type === 'DISCONNECT' ? disconnect.rejectReason : undefined, 17);
    assert.match(s.closed[0] ?? '', /max-response-delay/);
    await s.transport.stop();
  });

  it('caps concurrent inbound sockets', async () => {
    const [, ss] = settingsPair({ s: { partnerPort: 1 } });
    const s = side(ss);
    await start(s);
    const socks: net.Socket[] = [];
    for (let i = 0; i < 6; i++) {
      const sock = net.connect({ host: '127.0.0.1', port: ss.localPort });
      sock.on('error', () => undefined);
      socks.push(sock);
      await new Promise((r) => sock.once('connect', r));
    }
    await until('refusals', () => s.problems.filter((x) => x.kind === 'refused').length >= 2);
    for (const sock of socks) sock.destroy();
    await s.transport.stop();
  });
});

describe('checkDigest', () => {
  const msg: FailoverMessage = { type: 'CONTACT', time: 1_700_000_000, xid: 7 };
  it('verifies a signed message, detects tampering, a wrong key, a missing and an unexpected digest', () => {
    const key = Buffer.from('s3cret');
    const signed = encodeFailoverMessage(msg, { dialect: 'isc', secret: key });
    assert.equal(checkDigest(signed, key), 'ok');
    const tampered = Buffer.from(signed); tampered[8] = tampered[8]! ^ 1;
    assert.equal(checkDigest(tampered, key), 'bad');
    assert.equal(checkDigest(signed, Buffer.from('other')), 'bad');
    const plain = encodeFailoverMessage(msg, { dialect: 'isc' });
    assert.equal(checkDigest(plain, key), 'missing');
    assert.equal(checkDigest(signed, undefined), 'unexpected');
    assert.equal(checkDigest(plain, undefined), 'ok');
  });
});
