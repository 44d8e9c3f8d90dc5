// The `dhcp-failover server` process on loopback: config reload without restart, a bad new file
// rejected while the running config stays, malformed packets counted and dropped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));

async function freePort(type: 'tcp' | 'udp'): Promise<number> {
  if (type === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const { port } = s.address();
    s.close();
    return port;
  }
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)); });
  });
}

function configText(dhcpPort: number, adminPort: number, scopes: string[]): string {
  return [
    'server:', '  name: proc-test', '  serverId: 127.0.0.1',
    `  listen: { address: 127.0.0.1, port: ${dhcpPort} }`, `  admin: { address: 127.0.0.1, port: ${adminPort} }`,
    '  store: { type: memory }', '  logLevel: warn', 'scopes:',
    ...scopes.map((s, i) => `  - { name: ${s}, subnet: 192.0.${2 + i}.0/24, ranges: [{ start: 192.0.${2 + i}.10, end: 192.0.${2 + i}.20 }] }`),
  ].join('\n') + '\n';
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try { const v = await fn(); if (v !== undefined) return v; } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('dhcp-failover server process', () => {
  let dir: string, child: ChildProcess, adminPort: number, dhcpPort: number, cfg: string;
  const status = async () => (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as { configHash: string; scopes: { scope: string }[] };
  const metrics = async () => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dhcp-proc-'));
    [dhcpPort, adminPort] = [await freePort('udp'), await freePort('tcp')];
    cfg = path.join(dir, 'config.yaml');
    writeFileSync(cfg, configText(dhcpPort, adminPort, ['one']));
    child = spawn(BIN, ['server', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
    await waitFor('admin endpoint', async () => ((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).ok ? true : undefined));
  });

  after(async () => {
    if (child.exitCode === null) { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); }
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a changed config file without restarting', async () => {
    const pid = child.pid;
    assert.deepEqual((await status()).scopes.map((s) => s.scope), ['one']);
    writeFileSync(`${cfg}.tmp`, configText(dhcpPort, adminPort, ['one', 'two']));
    renameSync(`${cfg}.tmp`, cfg);
    await waitFor('second scope', async () => ((await status()).scopes.length === 2 ? true : undefined));
    assert.equal(child.pid, pid);
    assert.equal(child.exitCode, null);
    assert.match(await metrics(), /dhcp_config_reloads_total\{result="applied"\} 1/);
  });

  it('rejects an invalid new file and keeps serving the running config', async () => {
    const before = await status();
    writeFileSync(`${cfg}.tmp`, configText(dhcpPort, adminPort, ['one', 'two']).replace('192.0.3.0/24', '192.0.3.0/33'));
    renameSync(`${cfg}.tmp`, cfg);
    await waitFor('rejection counted', async () => (/dhcp_config_reloads_total\{result="rejected"\} 1/.test(await metrics()) ? true : undefined));
    assert.deepEqual(await status(), before, 'same config hash and scopes');
    assert.equal(child.exitCode, null);
  });

  it('counts malformed packets as drops and keeps running', async () => {
    const sock = dgram.createSocket('udp4');
    const garbage = [Buffer.alloc(10), Buffer.alloc(300, 0xff), Buffer.concat([Buffer.alloc(236), Buffer.from([0x63, 0x82, 0x53, 0x63, 53, 200])])];
    for (const g of garbage) await new Promise<void>((r, j) => sock.send(g, dhcpPort, '127.0.0.1', (e) => (e ? j(e) : r())));
    sock.close();
    const text = await waitFor('drops counted', async () => {
      const m = await metrics();
      const n = [...m.matchAll(/dhcp_packets_dropped_total\{reason="malformed_[a-z_]+"\} (\d+)/g)].reduce((a, x) => a + Number(x[1]), 0);
      return n >= 3 ? m : undefined;
    });
    assert.match(text, /reason="malformed_truncated"/);
    assert.match(text, /reason="malformed_bad_magic_cookie"/);
    assert.equal((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status, 200);
  });
});
