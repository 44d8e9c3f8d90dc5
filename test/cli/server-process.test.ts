// The `dhcp-failover server` process on loopback: config reload without restart, a bad new file
// rejected while the running config stays, a file without scopes refused (reload-guard.ts) unless it
// says allowEmptyScopes, malformed packets counted and dropped; first start with no scopes.
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

function configText(dhcpPort: number, adminPort: number, scopes: string[], extra: string[] = []): string {
  return [
    'server:', '  name: proc-test', '  serverId: 127.0.0.1',
    `  listen: { address: 127.0.0.1, port: ${dhcpPort} }`, `  admin: { address: 127.0.0.1, port: ${adminPort} }`,
    '  store: { type: memory }', '  logLevel: warn', scopes.length ? 'scopes:' : 'scopes: []',
    ...scopes.map((s, i) => `  - { name: ${s}, subnet: 192.0.${2 + i}.0/24, ranges: [{ start: 192.0.${2 + i}.10, end: 192.0.${2 + i}.20 }] }`),
    ...extra,
  ].join('\n') + '\n';
}

/** Atomic replace, as an editor or kubelet would. */
function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** JSON log lines of a child's stderr, collected as they come. */
function collectLog(child: ChildProcess): { event: string; level: string; [k: string]: unknown }[] {
  const lines: { event: string; level: string }[] = [];
  let rest = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) { try { lines.push(JSON.parse(line) as { event: string; level: string }); } catch { /* not a log line */ } }
  });
  return lines;
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

interface Status { configHash: string; scopes: { scope: string }[] }

describe('dhcp-failover server process', () => {
  let dir: string, child: ChildProcess, adminPort: number, dhcpPort: number, cfg: string;
  let logLines: ReturnType<typeof collectLog>;
  const status = async () => (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as Status;
  const metrics = async () => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const counted = async (result: string): Promise<number> => Number(new RegExp(`dhcp_config_reloads_total\\{result="${result}"\\} (\\d+)`).exec(await metrics())?.[1] ?? 0);

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dhcp-proc-'));
    [dhcpPort, adminPort] = [await freePort('udp'), await freePort('tcp')];
    cfg = path.join(dir, 'config.yaml');
    writeFileSync(cfg, configText(dhcpPort, adminPort, ['one']));
    child = spawn(BIN, ['server', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    logLines = collectLog(child);
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

  it('refuses a valid file without scopes, logs it once, and keeps serving the running scopes', async () => {
    const before = await status();
    assert.deepEqual(before.scopes.map((s) => s.scope), ['one', 'two']);
    const empty = configText(dhcpPort, adminPort, []);
    replaceFile(cfg, empty);
    await waitFor('refusal counted', async () => ((await counted('refused_empty')) === 1 ? true : undefined));
    assert.deepEqual(await status(), before, 'same config hash, both scopes still served');
    // The same bytes again (kubelet resyncs, the 10 s poll): judged once, logged once.
    replaceFile(cfg, empty);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await counted('refused_empty'), 1);
    const refused = logLines.filter((l) => l.event === 'config.refused');
    assert.equal(refused.length, 1, JSON.stringify(refused));
    assert.equal(refused[0]?.level, 'warn');
    assert.deepEqual([refused[0]?.reason, refused[0]?.runningScopes, refused[0]?.newScopes, refused[0]?.allowWith], ['empty_scopes', 2, 0, 'allowEmptyScopes: true']);
    assert.equal(refused[0]?.runningHash, before.configHash);
    assert.equal(await counted('applied'), 1, 'nothing applied since the first reload');
    assert.equal(child.exitCode, null);
  });

  it('applies the next file normally: allowEmptyScopes: true empties the list, then scopes come back', async () => {
    const pid = child.pid;
    replaceFile(cfg, configText(dhcpPort, adminPort, [], ['allowEmptyScopes: true']));
    await waitFor('no scope served', async () => ((await status()).scopes.length === 0 ? true : undefined));
    assert.equal(await counted('applied'), 2);
    // Nothing is served now, so a file without the flag and without scopes is no longer refused, and scopes can return.
    replaceFile(cfg, configText(dhcpPort, adminPort, ['one']));
    await waitFor('scope one again', async () => ((await status()).scopes.map((s) => s.scope).join() === 'one' ? true : undefined));
    assert.equal(await counted('applied'), 3);
    assert.equal(await counted('refused_empty'), 1);
    assert.equal(child.pid, pid);
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

describe('dhcp-failover server process: first start with an empty scope list', () => {
  let dir: string, child: ChildProcess, adminPort: number, cfg: string, dhcpPort: number;
  let logLines: ReturnType<typeof collectLog>;
  const status = async () => (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as Status;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dhcp-proc-empty-'));
    [dhcpPort, adminPort] = [await freePort('udp'), await freePort('tcp')];
    cfg = path.join(dir, 'config.yaml');
    writeFileSync(cfg, configText(dhcpPort, adminPort, []));
    child = spawn(BIN, ['server', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    logLines = collectLog(child);
  });

  after(async () => {
    if (child.exitCode === null) { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); }
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts and serves no scope (the guard judges reloads only), then takes scopes from a reload', async () => {
    await waitFor('admin endpoint', async () => ((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).ok ? true : undefined));
    assert.deepEqual((await status()).scopes, []);
    replaceFile(cfg, configText(dhcpPort, adminPort, ['one']));
    await waitFor('scope one', async () => ((await status()).scopes.length === 1 ? true : undefined));
    assert.deepEqual(logLines.filter((l) => l.event === 'config.refused' || l.level === 'error'), []);
    assert.equal(child.exitCode, null);
  });
});
