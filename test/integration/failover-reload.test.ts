// Failover settings change without a restart: two real server processes on loopback (127.0.0.2
// primary, 127.0.0.3 secondary) whose config files are rewritten while they run. A new split and
// MCLT on the primary reach the secondary through a new CONNECT; a shared secret rotated on one side
// and seconds later on the other keeps the pair NORMAL on the same link throughout (the previous
// secret stays accepted for a grace period) and ends with both on the new secret; a
// changed partner address is reported as needing a restart and not half-applied; a file without
// scopes written to both servers at once (the operator's empty render) is refused by both, which keep
// serving, until the file says allowEmptyScopes: true; the process IDs never change. Every wait is
// bounded; every process is stopped by PID in after(). The DHCP exchanges need root (relay on port 67).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { macOf, RelayClient } from '../fakes/relay-client.ts';

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));
const BASE = 31_000 + (process.pid % 2000) * 4;
const DHCP_PORT = BASE, FO_PORT = BASE + 1, ADMIN_PORT = BASE + 2;
const HOSTS = { primary: '127.0.0.2', secondary: '127.0.0.3' } as const;
type Role = keyof typeof HOSTS;

const dir = mkdtempSync(join(tmpdir(), 'fo-reload-'));
const procs = new Map<Role, ChildProcess>();

interface Settings {
  secret: string; splitPercent: number; mcltSeconds: number; partnerPort: number; rangeEnd: string;
  /** false: `scopes: []`; allowEmptyScopes adds `allowEmptyScopes: true`. */
  scopes: boolean; allowEmptyScopes: boolean;
}
const initial: Settings = { secret: 'first-secret', splitPercent: 50, mcltSeconds: 60, partnerPort: FO_PORT, rangeEnd: '127.0.9.149', scopes: true, allowEmptyScopes: false };
const RELAY = '127.0.9.1';
const asRoot = process.getuid?.() === 0;
const settings: Record<Role, Settings> = { primary: { ...initial }, secondary: { ...initial } };

function configText(role: Role, s: Settings): string {
  const partner: Role = role === 'primary' ? 'secondary' : 'primary';
  return `server:
  name: rl-${role}
  listen: { address: ${HOSTS[role]}, port: ${DHCP_PORT}, interfaces: [] }
  admin: { address: ${HOSTS[role]}, port: ${ADMIN_PORT} }
  store: { type: memory }
${s.scopes ? `scopes:
  - name: relayed
    subnet: 127.0.9.0/24
    ranges: [{ start: 127.0.9.100, end: ${s.rangeEnd} }]
    leaseSeconds: 600` : 'scopes: []'}${s.allowEmptyScopes ? '\nallowEmptyScopes: true' : ''}
failover:
  relationship: reload-pair
  role: ${role}
  address: ${HOSTS[role]}
  port: ${FO_PORT}
  partner: { address: ${HOSTS[partner]}, port: ${s.partnerPort} }
  mode: load-balance
  splitPercent: ${s.splitPercent}
  mcltSeconds: ${s.mcltSeconds}
  maxResponseDelaySeconds: 3
  startupSeconds: 1
  sharedSecret: ${s.secret}
`;
}

const configPath = (role: Role) => join(dir, `${role}.yaml`);
/** Atomic replace, as an editor or kubelet would. */
function writeConfig(role: Role, change: Partial<Settings> = {}): void {
  settings[role] = { ...settings[role], ...change };
  const tmp = `${configPath(role)}.tmp`;
  writeFileSync(tmp, configText(role, settings[role]));
  renameSync(tmp, configPath(role));
}

function start(role: Role): void {
  writeConfig(role);
  const log = openSync(join(dir, `${role}.log`), 'a');
  const child = spawn(BIN, ['server', '--config', configPath(role)], { stdio: ['ignore', log, log] });
  procs.set(role, child);
}

interface Status {
  restartRequiredFor: string[];
  scopes: { scope: string; poolSize: number }[];
  failover: {
    state: string; mcltSeconds: number; loadBalance: { primaryPercent: number }; connection: { up: boolean };
    secret: { link: 'current' | 'previous' | null; previousAcceptedUntil: string | null } | null;
    poolOwnership: { scheme: string; held: string[]; settled: boolean } | null;
  };
}
async function status(role: Role): Promise<Status | undefined> {
  try {
    const res = await fetch(`http://${HOSTS[role]}:${ADMIN_PORT}/status`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? (await res.json()) as Status : undefined;
  } catch { return undefined; }
}
async function metric(role: Role, re: RegExp): Promise<number> {
  try {
    const text = await (await fetch(`http://${HOSTS[role]}:${ADMIN_PORT}/metrics`, { signal: AbortSignal.timeout(1000) })).text();
    return Number(re.exec(text)?.[1] ?? 0);
  } catch { return 0; }
}
async function until(what: string, probe: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (let n = 0; n < 1000 && Date.now() < end; n++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; logs in ${dir}`);
}
const bothNormal = async () => (await status('primary'))?.failover.state === 'normal' && (await status('secondary'))?.failover.state === 'normal';
const AUTH_FAILURES = /dhcp_failover_auth_failures_total\{relationship="reload-pair"\} (\d+)/;
const REFUSED_EMPTY = /dhcp_config_reloads_total\{result="refused_empty"\} (\d+)/;
const scopeNames = async (role: Role) => (await status(role))?.scopes.map((x) => x.scope);

describe('failover config reload without restart (two processes on loopback)', { timeout: 120_000 }, () => {
  const pids: Partial<Record<Role, number | undefined>> = {};

  after(async () => {
    for (const child of procs.values()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    if (!process.env.KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
  });

  it('the pair reaches NORMAL with the first settings', async () => {
    start('primary');
    start('secondary');
    await until('both NORMAL', bothNormal, 20_000);
    pids.primary = procs.get('primary')!.pid;
    pids.secondary = procs.get('secondary')!.pid;
    const s = await status('secondary');
    assert.equal(s?.failover.mcltSeconds, 60);
    assert.equal(s?.failover.loadBalance.primaryPercent, 50);
  });

  it('a new split and MCLT on the primary reach the secondary through a new CONNECT', async () => {
    writeConfig('primary', { splitPercent: 80, mcltSeconds: 90 });
    await until('the secondary runs the new split and MCLT', async () => {
      const s = await status('secondary');
      return s?.failover.loadBalance.primaryPercent === 80 && s.failover.mcltSeconds === 90;
    }, 20_000);
    await until('both NORMAL again', bothNormal, 20_000);
    assert.equal((await status('primary'))?.failover.loadBalance.primaryPercent, 80);
    assert.deepEqual((await status('primary'))?.restartRequiredFor, []);
    // Pool ownership: the primary now splits the pool 80/20 and the secondary's file still says 50/50, so
    // the primary keeps honouring the old split too (held) until the secondary runs the same one; then the
    // handshake settles both on one scheme, with no restart.
    const own = async (r: Role) => (await status(r))?.failover.poolOwnership;
    const before = await own('secondary');
    assert.equal((await own('primary'))?.settled, false, 'the primary holds the old split while the secondary runs it');
    assert.ok((await own('primary'))?.held.includes(before!.scheme));
    writeConfig('secondary', { splitPercent: 80, mcltSeconds: 90 });
    await until('both settled on the new split', async () => {
      const [p, q] = [await own('primary'), await own('secondary')];
      return p?.settled === true && q?.settled === true && p.scheme === q.scheme && p.scheme !== before!.scheme;
    }, 20_000);
    assert.ok(await bothNormal());
  });

  it('a rotated secret: one side rotated → still NORMAL on the same link, nothing refused; both rotated → both on the new secret', async () => {
    const failuresBefore = await metric('primary', AUTH_FAILURES) + await metric('secondary', AUTH_FAILURES);
    const linksBefore = (readFileSync(join(dir, 'primary.log'), 'utf8').match(/"failover\.link\.lost"/g) ?? []).length;
    const seen = new Set<string>();
    const watch = setInterval(() => { void Promise.all([status('primary'), status('secondary')]).then((xs) => { for (const x of xs) if (x) seen.add(x.failover.state); }); }, 100);
    try {
      writeConfig('secondary', { secret: 'second-secret' });
      await until('the secondary keeps the previous secret', async () => (await status('secondary'))?.failover.secret?.previousAcceptedUntil != null, 10_000);
      await new Promise((r) => setTimeout(r, 3000)); // keepalives cross under the old secret (max-response-delay 3 s)
      assert.equal((await status('secondary'))?.failover.secret?.link, 'previous');
      assert.ok(await bothNormal(), 'the pair stays NORMAL while only one side has the new secret');
      writeConfig('primary', { secret: 'second-secret' });
      await until('both on the new secret', async () => (await status('primary'))?.failover.secret?.link === 'current' && (await status('secondary'))?.failover.secret?.link === 'current', 15_000);
      await new Promise((r) => setTimeout(r, 2000));
    } finally { clearInterval(watch); }
    assert.deepEqual([...seen], ['normal'], 'no COMMUNICATIONS-INTERRUPTED at any moment');
    assert.ok(await bothNormal());
    assert.equal(await metric('primary', AUTH_FAILURES) + await metric('secondary', AUTH_FAILURES), failuresBefore, 'nothing refused');
    assert.equal((readFileSync(join(dir, 'primary.log'), 'utf8').match(/"failover\.link\.lost"/g) ?? []).length, linksBefore, 'the link was never lost');
    assert.match(readFileSync(join(dir, 'secondary.log'), 'utf8'), /failover\.secret\.previous_accepted/);
  });

  it('a scope change applies at once; a new partner address is reported as needing a restart and not applied', async () => {
    writeConfig('primary', { rangeEnd: '127.0.9.199' });
    await until('the primary serves the larger pool', async () => (await status('primary'))?.scopes.find((x) => x.scope === 'relayed')?.poolSize === 100, 10_000);
    writeConfig('secondary', { partnerPort: FO_PORT + 100 });
    await until('the secondary reports the restart it needs', async () => ((await status('secondary'))?.restartRequiredFor ?? []).includes('failover.partner'), 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    assert.ok(await bothNormal(), 'the pair stays NORMAL: the partner address was not half-applied');
    assert.match(readFileSync(join(dir, 'secondary.log'), 'utf8'), /config\.restart_required/);
  });

  it('a file without scopes on both servers at once is refused by both; they keep serving until it says allowEmptyScopes', async () => {
    const before = { primary: await status('primary'), secondary: await status('secondary') };
    assert.deepEqual(before.primary?.scopes.map((x) => x.scope), ['relayed']);
    writeConfig('primary', { scopes: false });
    writeConfig('secondary', { scopes: false });
    await until('both refuse the empty file', async () => (await metric('primary', REFUSED_EMPTY)) === 1 && (await metric('secondary', REFUSED_EMPTY)) === 1, 10_000);
    for (const role of ['primary', 'secondary'] as const) {
      assert.deepEqual((await status(role))?.scopes, before[role]?.scopes, `${role} still serves its scope`);
      assert.match(readFileSync(join(dir, `${role}.log`), 'utf8'), /"level":"warn","event":"config\.refused".*"runningScopes":1,"newScopes":0/);
    }
    assert.ok(await bothNormal(), 'the pair stays NORMAL');
    const relay = asRoot ? new RelayClient({ relayAddress: RELAY, targets: [HOSTS.primary, HOSTS.secondary], serverPort: DHCP_PORT }) : undefined;
    try {
      await relay?.open();
      if (relay) assert.ok(await relay.acquire(macOf(0x51, 1), { timeoutMs: 5000 }), 'a client still gets a lease after the refused reload');
      writeConfig('primary', { allowEmptyScopes: true });
      writeConfig('secondary', { allowEmptyScopes: true });
      await until('both serve no scope', async () => (await scopeNames('primary'))?.length === 0 && (await scopeNames('secondary'))?.length === 0, 10_000);
      if (relay) assert.equal(await relay.acquire(macOf(0x51, 2), { timeoutMs: 1500 }), undefined, 'no scope, no lease');
    } finally { relay?.close(); }
    assert.equal(await metric('primary', REFUSED_EMPTY), 1);
  });

  it('no process was restarted', () => {
    for (const role of ['primary', 'secondary'] as const) {
      const child = procs.get(role)!;
      assert.equal(child.pid, pids[role]);
      assert.equal(child.exitCode, null, `${role} is still running`);
    }
  });
});
