// The server's shared failover listeners (src/failover/link/listener.ts) on real TCP: one socket per
// address:port, connections routed by the partner address they come from. Loopback source addresses
// (127.0.0.2, 127.0.0.3, …: Linux routes all of 127/8 to lo) play the different partners.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { BindError } from '../../../src/errors.ts';
import { FailoverListeners, type ListenerClaim } from '../../../src/failover/link/listener.ts';
import { setLogSink } from '../../../src/log.ts';
import { freePort } from '../../fakes/ports.ts';
import { sleep, until } from '../../fakes/wait.ts';

const HOST = '127.0.0.1';
const logs: { event: string; remote?: string; local?: string }[] = [];
setLogSink((line) => { try { logs.push(JSON.parse(line) as { event: string }); } catch { /* not JSON */ } });
after(() => setLogSink((line) => process.stderr.write(line + '\n')));

/** An accept callback that records the remote address of each socket it gets, then closes it. */
function recorder(): { accept: (s: net.Socket) => void; from: string[] } {
  const from: string[] = [];
  return { from, accept: (s) => { from.push(s.remoteAddress?.replace(/^::ffff:/, '') ?? '?'); s.destroy(); } };
}

interface Outcome { connected: boolean; error?: string; timedOut: boolean }

/** Connects to HOST:port from `localAddress`; resolves once the socket is closed (by the other end, or by us after 1 s). */
function connectFrom(localAddress: string, port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let connected = false, timedOut = false;
    let error: string | undefined;
    const s = net.connect({ host: HOST, port, localAddress });
    s.on('connect', () => { connected = true; });
    s.on('error', (err: NodeJS.ErrnoException) => { error = err.code; });
    s.on('close', () => resolve({ connected, timedOut, ...(error !== undefined && { error }) }));
    s.setTimeout(1000, () => { timedOut = true; s.destroy(); });
  });
}

async function canBind(port: number): Promise<boolean> {
  const srv = net.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => resolve(true));
  });
  if (ok) await new Promise<void>((r) => srv.close(() => r()));
  return ok;
}

/** Claims still held when a test fails are released at the end (a test's own release takes its claim off). */
const held = new Set<ListenerClaim>();
after(async () => { for (const c of held) await c.release(); });
async function claim(listeners: FailoverListeners, port: number, partner: string, accept: (s: net.Socket) => void): Promise<ListenerClaim> {
  const c = await listeners.claim(HOST, port, partner, accept);
  held.add(c);
  return { release: () => { held.delete(c); return c.release(); } };
}

describe('FailoverListeners', () => {
  it('with a single claim every connection goes to it, from the partner address or not (its transport decides)', async () => {
    const port = await freePort();
    const listeners = new FailoverListeners();
    const a = recorder();
    const c = await claim(listeners, port, '127.0.0.2', a.accept);
    await connectFrom('127.0.0.2', port);
    await connectFrom('127.0.0.9', port);
    await until('both sockets handed over', () => a.from.length === 2);
    assert.deepEqual(a.from, ['127.0.0.2', '127.0.0.9']);
    await c.release();
  });

  it('with two claims on one address:port, each connection goes to the relationship of its source address; a stranger is refused and logged', async () => {
    const port = await freePort();
    const listeners = new FailoverListeners();
    const b1 = recorder(), b2 = recorder();
    const c1 = await claim(listeners, port, '127.0.0.2', b1.accept);
    const c2 = await claim(listeners, port, '127.0.0.3', b2.accept);
    await connectFrom('127.0.0.2', port);
    await connectFrom('127.0.0.3', port);
    await connectFrom('127.0.0.2', port);
    await until('three sockets handed over', () => b1.from.length + b2.from.length === 3);
    assert.deepEqual(b1.from, ['127.0.0.2', '127.0.0.2']);
    assert.deepEqual(b2.from, ['127.0.0.3']);

    const logged = logs.length;
    const stranger = await connectFrom('127.0.0.4', port);
    assert.equal(stranger.connected, true, 'the TCP connection is accepted…');
    assert.equal(stranger.timedOut, false, '…then closed by the listener at once');
    await sleep(50);
    assert.equal(b1.from.length + b2.from.length, 3, 'neither relationship got the stranger');
    const refused = logs.slice(logged).filter((l) => l.event === 'failover.listen.refused');
    assert.deepEqual(refused.map((l) => [l.remote, l.local]), [['127.0.0.4', `${HOST}:${port}`]]);
    await c1.release(); await c2.release();
  });

  it('two claims at once share one bind', async () => {
    const port = await freePort();
    const listeners = new FailoverListeners();
    const b1 = recorder(), b2 = recorder();
    const [c1, c2] = await Promise.all([claim(listeners, port, '127.0.0.2', b1.accept), claim(listeners, port, '127.0.0.3', b2.accept)]);
    await connectFrom('127.0.0.3', port);
    await until('socket handed over', () => b2.from.length === 1);
    assert.equal(b1.from.length, 0);
    await c1.release(); await c2.release();
  });

  it('two claims with the same partner on one listener throw; the first keeps its connections', async () => {
    const port = await freePort();
    const listeners = new FailoverListeners();
    const first = recorder(), second = recorder();
    const c = await claim(listeners, port, '127.0.0.2', first.accept);
    await assert.rejects(listeners.claim(HOST, port, '127.0.0.2', second.accept), /two relationships on 127\.0\.0\.1:\d+ with partner 127\.0\.0\.2/);
    await connectFrom('127.0.0.2', port);
    await until('socket handed over', () => first.from.length === 1);
    assert.equal(second.from.length, 0);
    await c.release();
    assert.equal(await canBind(port), true, 'the refused claim held nothing open');
  });

  it('the same partner on two different listeners is not a conflict here', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const listeners = new FailoverListeners();
    const c1 = await claim(listeners, p1, '127.0.0.2', recorder().accept);
    const c2 = await claim(listeners, p2, '127.0.0.2', recorder().accept);
    await c1.release(); await c2.release();
  });

  it('a release keeps the socket for the others (now the only claim, it gets every connection); the last release closes it', async () => {
    const port = await freePort();
    const listeners = new FailoverListeners();
    const b1 = recorder(), b2 = recorder();
    const c1 = await claim(listeners, port, '127.0.0.2', b1.accept);
    const c2 = await claim(listeners, port, '127.0.0.3', b2.accept);
    await c1.release();
    assert.equal(await canBind(port), false, 'still listening for the second relationship');
    await connectFrom('127.0.0.2', port);
    await until('socket handed over', () => b2.from.length === 1);
    assert.deepEqual(b2.from, ['127.0.0.2']);
    assert.equal(b1.from.length, 0, 'a released claim gets nothing');
    await c2.release();
    assert.equal((await connectFrom('127.0.0.2', port)).error, 'ECONNREFUSED');
    assert.equal(await canBind(port), true, 'the port can be bound again');
  });

  it('after the last release a new claim on the same address:port listens again', async () => {
    const port = await freePort();
    const listeners = new FailoverListeners();
    await (await claim(listeners, port, '127.0.0.2', recorder().accept)).release();
    const again = recorder();
    const c = await claim(listeners, port, '127.0.0.2', again.accept);
    await connectFrom('127.0.0.3', port);
    await until('socket handed over', () => again.from.length === 1);
    await c.release();
  });

  it('a port that is taken rejects with a BindError and leaves nothing behind: the same claim works once the port is free', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, HOST, () => r()));
    const listeners = new FailoverListeners();
    const a = recorder();
    try {
      await assert.rejects(listeners.claim(HOST, port, '127.0.0.2', a.accept), (err: unknown) => {
        assert.ok(err instanceof BindError, `expected a BindError, got ${String(err)}`);
        assert.equal(err.code, 'port_in_use');
        assert.equal(err.port, port);
        assert.equal(err.address, HOST);
        return true;
      });
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    // Nothing left: no route for the partner (this would throw "two relationships"), no rejected bind kept.
    const c = await claim(listeners, port, '127.0.0.2', a.accept);
    await connectFrom('127.0.0.2', port);
    await until('socket handed over', () => a.from.length === 1);
    await c.release();
    assert.equal(await canBind(port), true);
  });

  it('a bind failure does not affect a later claim on another, free port', async () => {
    const listeners = new FailoverListeners();
    await assert.rejects(listeners.claim('192.0.2.1', await freePort(), '127.0.0.2', recorder().accept), { code: 'address_unavailable' });
    const port = await freePort();
    const a = recorder();
    const c = await claim(listeners, port, '127.0.0.2', a.accept);
    await connectFrom('127.0.0.2', port);
    await until('socket handed over', () => a.from.length === 1);
    await c.release();
  });
});
