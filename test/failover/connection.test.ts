import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { systemClock, type Clock } from '../../src/clock.ts';
import { FailoverTransport, type LinkSettings, type Link, type PartnerParams } from '../../src/failover/connection.ts';
import { bytes, decodeMessage, encodeMessage, FrameReader, MessageType, Opt, text, u32, type FoMessage } from '../../src/failover/link-codec.ts';
import { bucketMapForSplit } from '../../src/failover/load-balance.ts';
import { skewedClock } from '../fakes/fake-clock.ts';

let nextPort = 20_000 + (process.pid % 20_000);
const ports = (): [number, number] => [nextPort++, nextPort++];

interface Side {
  transport: FailoverTransport;
  established: PartnerParams[];
  messages: FoMessage[];
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
  const common = { relationship: 'lab', localAddress: '127.0.0.1', partnerAddress: '127.0.0.1', maxUnacked: 10, receiveTimerSeconds: 30, mcltSeconds: 600, hba: bucketMapForSplit(128), backoffMs: { min: 50, max: 200 } };
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
    p.link?.send(MessageType.STATE, [text(Opt.MESSAGE, 'hi')]);
    s.link?.send(MessageType.UPDREQ, []);
    await until('messages', () => s.messages.length > 0 && p.messages.length > 0);
    assert.equal(s.messages[0]?.type, MessageType.STATE);
    assert.equal(p.messages[0]?.type, MessageType.UPDREQ);
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
    p.link?.send(MessageType.STATE, [text(Opt.MESSAGE, 'drifting')]);
    await until('skew measured on the secondary', () => Math.abs(s.link?.skewSeconds ?? 0) >= 29);
    assert.ok(!s.closed.some((r) => /skew/.test(r)), `30 s is tolerated (closed: ${s.closed.join('; ')})`);
    offsetMs = 90_000;
    p.link?.send(MessageType.STATE, [text(Opt.MESSAGE, 'too far')]);
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

  it('the same secret on both sides works', async () => {
    const [ps, ss] = settingsPair({ p: { secret: Buffer.from('k') }, s: { secret: Buffer.from('k') } });
    const p = side(ps), s = side(ss);
    await start(p, s);
    await until('both established', () => p.established.length > 0 && s.established.length > 0);
    assert.deepEqual(s.problems.filter((x) => x.kind === 'auth'), []);
    await p.transport.stop(); await s.transport.stop();
  });

  it('hostile input closes that socket only; the listener keeps serving', async () => {
    const [, ss] = settingsPair({ s: { partnerPort: 1 } });
    const s = side(ss);
    await start(s);
    const attacks = [
      Buffer.from([0x00, 0x05, 0x01]), // length < 12
      Buffer.from([0xff, 0xff]), // length > 2048
      encodeMessage({ type: 99, time: Math.floor(Date.now() / 1000), xid: 1, options: [] }), // unknown type
      encodeMessage({ type: MessageType.BNDUPD, time: Math.floor(Date.now() / 1000), xid: 1, options: [] }), // not CONNECT first
      Buffer.concat([encodeMessage({ type: MessageType.CONNECT, time: 0, xid: 1, options: [text(22, 'a'), text(22, 'b')] })]), // duplicate option
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
    sock.write(encodeMessage({ type: MessageType.CONNECT, time: now, xid: 1, options: [text(Opt.RELATIONSHIP, 'lab'), u32(Opt.MCLT, 60), bytes(Opt.HBA, new Uint8Array(32)), u32(Opt.RECEIVE_TIMER, 3600)] }));
    await until('established', () => s.established.length === 1);
    await until('closed for silence', () => ended, 4000);
    const types = new FrameReader().push(Buffer.concat(got)).map((f) => decodeMessage(f));
    assert.deepEqual(types.map((m) => m.type), [MessageType.CONNECTACK, MessageType.DISCONNECT]);
    assert.equal(types[1]?.options.find((o) => o.code === Opt.REJECT_REASON)?.value[0], 17);
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
