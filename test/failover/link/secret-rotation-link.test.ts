// Shared-secret rotation on real links (two FailoverTransports over loopback TCP): the link survives
// a rotation that reaches the two sides at different moments and moves to the new secret; a CONNECT
// falls back to the previous secret while the partner lacks the new one; after the grace period the
// old secret is refused; a peer holding neither secret is refused as before.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { systemClock } from '../../../src/clock.ts';
import { FailoverTransport } from '../../../src/failover/link/connection.ts';
import type { LinkSettings, PartnerParams } from '../../../src/failover/link/link-params.ts';
import type { Link } from '../../../src/failover/link/link.ts';
import { bucketMapForSplit } from '../../../src/failover/rules/load-balance.ts';
import { setLogSink } from '../../../src/log.ts';
import type { FailoverMessage } from '../../../src/failover/wire/message.ts';
import { freePort } from '../../fakes/ports.ts';
import { sleep, until } from '../../fakes/wait.ts';

const OLD = Buffer.from('old-secret-0123456789'), NEW = Buffer.from('new-secret-9876543210'), OTHER = Buffer.from('not-the-secret');

const logs: { event: string; [k: string]: unknown }[] = [];
setLogSink((line) => { try { logs.push(JSON.parse(line) as { event: string }); } catch { /* ignore */ } });

interface Side {
  settings: LinkSettings;
  transport: FailoverTransport;
  established: PartnerParams[];
  messages: FailoverMessage[];
  /** Reasons the established link closed. */
  closed: string[];
  problems: { kind: string; detail: Record<string, unknown> }[];
  link?: Link;
}

function side(settings: LinkSettings): Side {
  const s = { settings, established: [], messages: [], closed: [], problems: [] } as unknown as Side;
  s.transport = new FailoverTransport(settings, systemClock, {
    established: (link, p) => { s.link = link; s.established.push(p); },
    message: (_l, m) => s.messages.push(m),
    closed: (_l, reason, wasCurrent) => { if (wasCurrent) s.closed.push(reason); }, // spare links in the handshake race do not count
    problem: (kind, detail) => s.problems.push({ kind, detail }),
  });
  return s;
}

async function pair(over: { p?: Partial<LinkSettings>; s?: Partial<LinkSettings> } = {}): Promise<[Side, Side]> {
  const pp = await freePort(), sp = await freePort();
  const common = {
    relationship: 'rot', dialect: 'isc' as const, sessionKeys: true, localAddress: '127.0.0.1', partnerAddress: '127.0.0.1', maxUnacked: 10,
    receiveTimerSeconds: 3, mcltSeconds: 600, hba: bucketMapForSplit(128), backoffMs: { min: 50, max: 200 }, secret: OLD,
  };
  return [
    side({ ...common, role: 'primary', localPort: pp, partnerPort: sp, ...over.p }),
    side({ ...common, role: 'secondary', localPort: sp, partnerPort: pp, ...over.s }),
  ];
}

/** What the secret file watcher does on a change (peer.ts reconfigure → transport.rotateSecret). */
function rotate(s: Side, secret: Buffer, graceMs?: number): void {
  s.settings = { ...s.settings, secret, ...(graceMs !== undefined ? { secretGraceMs: graceMs } : {}) };
  s.transport.rotateSecret(s.settings);
}


const started: FailoverTransport[] = [];
async function start(...sides: Side[]): Promise<void> { for (const s of sides) { started.push(s.transport); await s.transport.start(); } }
after(async () => { for (const t of started) await t.stop(); });

const auth = (s: Side) => s.problems.filter((p) => p.kind === 'auth');

describe('shared-secret rotation on a link', () => {
  for (const first of ['primary', 'secondary'] as const) {
    it(`the ${first} rotates first, the other ${first === 'primary' ? 'secondary' : 'primary'} 1.5 s later: the link never drops and ends on the new secret both ways`, async () => {
      const [p, s] = await pair();
      await start(p, s);
      await until('established', () => p.transport.hasEstablished() && s.transport.hasEstablished());
      assert.equal(p.link?.secretInUse(), 'current');
      const [a, b] = first === 'primary' ? [p, s] : [s, p];
      const mark = logs.length;
      rotate(a, NEW);
      await sleep(1500); // keepalives (every 1 s) cross the link under the old secret meanwhile
      assert.equal(a.link?.secretInUse(), 'previous', 'the rotated side keeps the old secret: its partner has not shown the new one');
      assert.equal(a.transport.secretStatus()?.link, 'previous');
      assert.ok(a.transport.secretStatus()?.previousUntil !== undefined);
      a.link?.send({ type: 'UPDREQ' });
      await until('a message under the old secret arrives', () => b.messages.some((m) => m.type === 'UPDREQ'));
      assert.ok(logs.slice(mark).some((l) => l.event === 'failover.secret.previous_accepted'), 'logged once the rotated side accepted the old secret');
      rotate(b, NEW);
      await until('both on the new secret', () => p.link?.secretInUse() === 'current' && s.link?.secretInUse() === 'current');
      await sleep(1200); // keepalives under the new secret
      p.link?.send({ type: 'STATE', serverState: 2 });
      await until('a message under the new secret arrives', () => s.messages.some((m) => m.type === 'STATE'));
      assert.deepEqual(p.closed, [], 'the primary\'s link never closed');
      assert.deepEqual(s.closed, [], 'the secondary\'s link never closed');
      assert.equal(p.established.length, 1);
      assert.equal(s.established.length, 1);
      assert.deepEqual([...auth(p), ...auth(s)], [], 'no auth failure counted');
      const accepted = logs.slice(mark).filter((l) => l.event === 'failover.secret.previous_accepted').map((l) => l.link);
      assert.ok(accepted.length >= 1 && new Set(accepted).size === accepted.length, `logged at most once per link end (${accepted.join(', ')})`);
      assert.ok(logs.slice(mark).filter((l) => l.event === 'failover.secret.link_moved').length >= 2);
      await p.transport.stop(); await s.transport.stop();
    });
  }

  it('a new link during the grace period: the primary (rotated) has no last link, tries the new secret, is refused, falls back to the previous one; the secondary (old) counts one auth failure', async () => {
    const [p, s] = await pair();
    rotate(p, NEW); // before any link: nothing to prefer
    await start(p, s);
    await until('established', () => p.transport.hasEstablished() && s.transport.hasEstablished(), 8000);
    // Both sides dial and the primary sends CONNECT on each link: one or two went out under the new secret.
    const refused = auth(s).length;
    assert.ok(refused >= 1 && refused <= 2, `the CONNECTs signed with the new secret were refused (${refused})`);
    assert.equal(p.link?.secretInUse(), 'previous');
    rotate(s, NEW);
    await until('both on the new secret', () => p.link?.secretInUse() === 'current' && s.link?.secretInUse() === 'current');
    await sleep(1200);
    assert.equal(p.established.length, 1);
    assert.equal(auth(s).length, refused, 'nothing refused after the fallback');
    await p.transport.stop(); await s.transport.stop();
  });

  it('a new link during the grace period: the secondary (rotated) accepts a CONNECT signed with the previous secret', async () => {
    const [p, s] = await pair();
    rotate(s, NEW);
    const mark = logs.length;
    await start(p, s);
    await until('established', () => p.transport.hasEstablished() && s.transport.hasEstablished());
    assert.deepEqual([...auth(p), ...auth(s)], []);
    assert.ok(logs.slice(mark).some((l) => l.event === 'failover.secret.previous_accepted' && l.type === 'CONNECT'));
    assert.equal(s.link?.secretInUse(), 'previous');
    await p.transport.stop(); await s.transport.stop();
  });

  it('after the grace period the old secret is refused: a link still on it is closed and counted, a CONNECT signed with it fails', async () => {
    const [p, s] = await pair();
    await start(p, s);
    await until('established', () => p.transport.hasEstablished() && s.transport.hasEstablished());
    rotate(s, NEW, 800); // the primary never gets the new secret (or it is someone who only has the old one)
    await sleep(400);
    assert.ok(s.transport.hasEstablished(), 'inside the grace period the link stays');
    await until('the link on the old secret closed at the end of the grace period', () => s.closed.length > 0, 3000);
    assert.ok(auth(s).some((x) => x.detail.result === 'secret_expired'), 'counted as an auth failure');
    await until('a CONNECT signed with the old secret refused', () => auth(s).some((x) => x.detail.type === 'CONNECT'), 3000);
    await sleep(500);
    assert.ok(!s.transport.hasEstablished() && !p.transport.hasEstablished(), 'no link with the old secret any more');
    assert.equal(s.transport.secretStatus()?.previousUntil, undefined, 'the previous secret is forgotten');
    await p.transport.stop(); await s.transport.stop();
  });

  it('a peer with neither secret is refused during the grace period, whichever side it is', async () => {
    for (const stranger of ['primary', 'secondary'] as const) {
      const [p, s] = await pair(stranger === 'primary' ? { p: { secret: OTHER } } : { s: { secret: OTHER } });
      const ours = stranger === 'primary' ? s : p;
      rotate(ours, NEW);
      await start(p, s);
      await until('auth failures counted', () => auth(s).length >= 2, 5000);
      assert.equal(p.established.length + s.established.length, 0, 'never established');
      await p.transport.stop(); await s.transport.stop();
    }
  });

  it('two changes within the grace period: a link on the oldest secret is closed at the second change', async () => {
    const [p, s] = await pair();
    await start(p, s);
    await until('established', () => p.transport.hasEstablished() && s.transport.hasEstablished());
    rotate(s, NEW);
    await sleep(200);
    assert.equal(s.closed.length, 0);
    rotate(s, Buffer.from('third-secret'));
    await until('closed', () => s.closed.length > 0, 2000);
    assert.ok(auth(s).some((x) => x.detail.result === 'secret_expired'));
    await p.transport.stop(); await s.transport.stop();
  });

  it('without session keys (Microsoft dialect): a rotated side keeps the link and accepts the previous secret', async () => {
    const [p, s] = await pair({ p: { sessionKeys: false, dialect: 'ms' }, s: { sessionKeys: false, dialect: 'ms' } });
    await start(p, s);
    await until('established', () => p.transport.hasEstablished() && s.transport.hasEstablished());
    rotate(p, NEW);
    await sleep(1500);
    s.link?.send({ type: 'UPDREQ' });
    await until('message', () => p.messages.some((m) => m.type === 'UPDREQ'));
    assert.deepEqual([...p.closed, ...s.closed], []);
    assert.equal(p.link?.secretInUse(), 'previous');
    await p.transport.stop(); await s.transport.stop();
  });
});
