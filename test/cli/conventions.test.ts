// CLI conventions, through the real bin script: every command answers --help and -h on stdout with
// exit 0 before it starts anything; a wrong command line is one line on stderr and exit 2; a port that
// is taken is one line on stderr naming address:port and the setting that moves it, exit 1.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BindError } from '../../src/errors.ts';
import { freePort } from '../fakes/ports.ts';

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));
const OPERATOR_SOURCE = fileURLToPath(new URL('../../src/operator/operator-command.ts', import.meta.url));
/** --help must not start anything; a server that did would not exit by itself within this. */
const HELP_DEADLINE_MS = 5_000;
const RUN_DEADLINE_MS = 20_000;

const dir = mkdtempSync(path.join(os.tmpdir(), 'dhcp-cli-conventions-'));
/** Process groups of every child (detached: local-pair's own children are in the group too). */
const groups = new Set<number>();
after(() => {
  for (const pid of groups) { try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ } }
  rmSync(dir, { recursive: true, force: true });
});

interface Run { code: number | null; stdout: string; stderr: string; ms: number; timedOut: boolean }

/** Runs the bin script; a child still running at the deadline is killed (its group, by pid) and reported. */
function run(args: string[], opts: { env?: Record<string, string>; deadlineMs?: number } = {}): Promise<Run> {
  const started = Date.now();
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...opts.env } });
  groups.add(child.pid!);
  let stdout = '', stderr = '', timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
  child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
  const timer = setTimeout(() => { timedOut = true; process.kill(-child.pid!, 'SIGKILL'); }, opts.deadlineMs ?? RUN_DEADLINE_MS);
  return new Promise((resolve) => child.once('close', (code) => {
    clearTimeout(timer);
    groups.delete(child.pid!);
    resolve({ code, stdout, stderr, ms: Date.now() - started, timedOut });
  }));
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** A port the kernel just handed out and released again (the caller binds it next). */

/** Holds a TCP port on 127.0.0.1 for the test (no race: port 0, then read back). */
async function holdTcp(): Promise<{ port: number; release(): Promise<void> }> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, release: () => new Promise((r) => srv.close(() => r())) };
}

/** Holds a UDP port on 127.0.0.1 without SO_REUSEADDR, as an unrelated program would. */
async function holdUdp(reuseAddr = false): Promise<{ port: number; release(): Promise<void> }> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, release: () => new Promise((r) => s.close(() => r())) };
}

function writeConfig(name: string, ports: { dhcp: number; admin: number; failover?: number }): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, [
    'server:', `  name: ${name}`, '  serverId: 127.0.0.1',
    `  listen: { address: 127.0.0.1, port: ${ports.dhcp} }`, `  admin: { address: 127.0.0.1, port: ${ports.admin} }`,
    '  store: { type: memory }', '  logLevel: warn',
    'scopes:', '  - { name: one, subnet: 192.0.2.0/24, ranges: [{ start: 192.0.2.10, end: 192.0.2.20 }] }',
    ...(ports.failover === undefined ? [] : [
      'failover:', '  relationship: conventions', '  role: primary', '  address: 127.0.0.1', `  port: ${ports.failover}`,
      '  partner: { address: 127.0.0.9, port: 647 }', '  mode: load-balance', '  mcltSeconds: 60', '  sharedSecret: conventions-secret',
    ]),
  ].join('\n') + '\n');
  return file;
}

/** The env variables operator-command.ts reads, from its source: the usage text must list each. */
function operatorEnvVars(): string[] {
  const src = readFileSync(OPERATOR_SOURCE, 'utf8');
  const names = [...src.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\bnum\('([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1] ?? m[2]!);
  return [...new Set(names)];
}

const HELP_CASES: { command: string; mentions: string[] }[] = [
  { command: 'server', mentions: ['--config', '-c,', '--log-level', '--help', 'server.listen', 'server.admin'] },
  { command: 'local-pair', mentions: ['--help', '127.0.0.2', '127.0.0.3', '6767', '8067', '6647'] },
  { command: 'ctl', mentions: ['--server', '--token-file', '--json', '--help', 'status', 'lease', 'partner-down', 'resync'] },
  { command: 'render', mentions: ['--file', '-f,', '--server-image', '--help'] },
  { command: 'operator', mentions: ['--help', 'KUBECONFIG', ...operatorEnvVars()] },
];

describe('dhcp-failover <command> --help', () => {
  it('finds the operator\'s env variables in its source (else the operator case checks little)', () => {
    const vars = operatorEnvVars();
    assert.ok(vars.length >= 12, `found only ${vars.join(', ')}`);
    for (const v of ['HTTP_PORT', 'POD_NAMESPACE', 'LEADER_ELECTION_RETRY_PERIOD_SECONDS']) assert.ok(vars.includes(v), v);
  });

  for (const { command, mentions } of HELP_CASES) {
    for (const flag of ['--help', '-h']) {
      it(`${command} ${flag}: its own usage on stdout, exit 0, nothing started`, async () => {
        const r = await run([command, flag], { deadlineMs: HELP_DEADLINE_MS });
        assert.equal(r.timedOut, false, `still running after ${HELP_DEADLINE_MS} ms: it started something`);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.startsWith(`usage: dhcp-failover ${command}`), r.stdout);
        for (const m of mentions) assert.ok(r.stdout.includes(m), `${command} usage does not mention ${m}:\n${r.stdout}`);
        // Logs are JSON lines on stderr: a server that started would have logged `*.listening`.
        assert.equal(r.stderr, '', 'nothing on stderr (no log line, no listening)');
        assert.doesNotMatch(r.stdout, /listening/);
      });
    }
  }

  it('ctl <sub-command> --help prints the ctl usage; help <command> prints that command\'s', async () => {
    for (const args of [['ctl', 'status', '--help'], ['ctl', 'lease', '-h'], ['help', 'ctl']]) {
      const r = await run(args, { deadlineMs: HELP_DEADLINE_MS });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stdout.startsWith('usage: dhcp-failover ctl'), r.stdout);
    }
  });

  it('dhcp-failover --help, -h and help print the command list, exit 0', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = await run([flag], { deadlineMs: HELP_DEADLINE_MS });
      assert.equal(r.code, 0);
      for (const c of HELP_CASES) assert.match(r.stdout, new RegExp(`^  ${c.command} `, 'm'));
    }
  });
});

describe('dhcp-failover: a wrong command line', () => {
  const cases: { args: string[]; says: RegExp }[] = [
    { args: ['server', '--bogus'], says: /--bogus/ },
    { args: ['server', '--config'], says: /--config/ },
    { args: ['server', '--log-level', 'loud'], says: /--log-level .*"loud"/ },
    { args: ['server', 'extra'], says: /extra/ },
    { args: ['local-pair', '--bogus'], says: /--bogus/ },
    { args: ['ctl'], says: /missing command/ },
    { args: ['ctl', '--bogus', 'status'], says: /--bogus/ },
    { args: ['ctl', 'reboot'], says: /unknown command "reboot"/ },
    { args: ['ctl', 'lease'], says: /lease needs/ },
    { args: ['ctl', '--server', 'not a url', 'status'], says: /--server is not a URL/ },
    { args: ['render'], says: /-f FILE/ },
    { args: ['render', '--bogus'], says: /--bogus/ },
    { args: ['operator', '--bogus'], says: /--bogus/ },
  ];
  for (const { args, says } of cases) {
    it(`${args.join(' ')}: one line on stderr, exit 2`, async () => {
      const r = await run(args, { deadlineMs: HELP_DEADLINE_MS });
      const command = args[0]!;
      assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
      assert.equal(r.stdout, '');
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^dhcp-failover ${command}: .* \\(see dhcp-failover ${command} --help\\)\\n$`));
      assert.match(r.stderr, says);
    });
  }

  it('an unknown command: one line, exit 2', async () => {
    const r = await run(['serve'], { deadlineMs: HELP_DEADLINE_MS });
    assert.equal(r.code, 2);
    assert.deepEqual(lines(r.stderr), ['dhcp-failover: unknown command "serve" (see dhcp-failover --help)']);
  });
});

describe('dhcp-failover: a port that is taken', () => {
  /** Exit 1 promptly (what had started was stopped again), and stderr is exactly one line, without a stack. */
  function assertOneLineFailure(r: Run, command: string): string {
    assert.equal(r.timedOut, false, `did not exit within ${RUN_DEADLINE_MS} ms (something stayed open); stderr: ${r.stderr}`);
    assert.equal(r.code, 1, r.stderr);
    const all = lines(r.stderr);
    assert.equal(all.length, 1, `one line on stderr, got:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(all[0]!.startsWith(`dhcp-failover ${command}: `), all[0]);
    return all[0]!;
  }

  it('server: the admin HTTP port', async () => {
    const held = await holdTcp();
    try {
      const cfg = writeConfig('admin-taken', { dhcp: await freePort('udp'), admin: held.port });
      const line = assertOneLineFailure(await run(['server', '--config', cfg]), 'server');
      assert.match(line, new RegExp(`127\\.0\\.0\\.1:${held.port}\\b`));
      assert.match(line, /server\.admin\.port/);
      assert.match(line, /in use/);
    } finally { await held.release(); }
  });

  it('server: the DHCP UDP port (held without SO_REUSEADDR)', async () => {
    const held = await holdUdp();
    try {
      const cfg = writeConfig('dhcp-taken', { dhcp: held.port, admin: await freePort('tcp') });
      const line = assertOneLineFailure(await run(['server', '--config', cfg]), 'server');
      assert.match(line, new RegExp(`127\\.0\\.0\\.1:${held.port}\\b`));
      assert.match(line, /server\.listen\.port/);
    } finally { await held.release(); }
  });

  it('server: the DHCP UDP port held WITH SO_REUSEADDR (another server): refused too, never shared', async () => {
    const held = await holdUdp(true);
    try {
      const cfg = writeConfig('dhcp-shared', { dhcp: held.port, admin: await freePort('tcp') });
      const line = assertOneLineFailure(await run(['server', '--config', cfg]), 'server');
      assert.match(line, /server\.listen\.port/);
    } finally { await held.release(); }
  });

  it('server: the failover TCP port', async () => {
    const held = await holdTcp();
    try {
      const cfg = writeConfig('failover-taken', { dhcp: await freePort('udp'), admin: await freePort('tcp'), failover: held.port });
      const line = assertOneLineFailure(await run(['server', '--config', cfg]), 'server');
      assert.match(line, new RegExp(`127\\.0\\.0\\.1:${held.port}\\b`));
      assert.match(line, /failover\.port/);
    } finally { await held.release(); }
  });

  it('server: an empty shared secret file is refused at start, naming the setting (never an empty HMAC key)', async () => {
    const secret = path.join(dir, 'empty-secret');
    writeFileSync(secret, '  \n');
    const cfg = writeConfig('secret-empty', { dhcp: await freePort('udp'), admin: await freePort('tcp'), failover: await freePort('tcp') });
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('  sharedSecret: conventions-secret', `  sharedSecretFile: ${secret}`));
    const line = assertOneLineFailure(await run(['server', '--config', cfg]), 'server');
    assert.match(line, /failover\.sharedSecretFile: .*empty-secret is empty \(relationship conventions\)/);
  });

  it('operator: HTTP_PORT', async () => {
    const held = await holdTcp();
    try {
      // A kubeconfig that loads (nothing is contacted before the HTTP port is bound).
      const kubeconfig = path.join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, [
        'apiVersion: v1', 'kind: Config', 'current-context: c',
        'clusters: [{ name: k, cluster: { server: "https://127.0.0.1:1" } }]',
        'users: [{ name: u, user: { token: t } }]',
        'contexts: [{ name: c, context: { cluster: k, user: u } }]',
      ].join('\n') + '\n');
      const r = await run(['operator'], { env: { KUBECONFIG: kubeconfig, HTTP_PORT: String(held.port), LOG_LEVEL: 'error' } });
      const line = assertOneLineFailure(r, 'operator');
      assert.match(line, new RegExp(`:${held.port}\\b`));
      assert.match(line, /HTTP_PORT/);
    } finally { await held.release(); }
  });
});

describe('BindError', () => {
  // EACCES cannot be provoked here (the tests may run as root), so the messages are checked directly.
  const site = { what: 'DHCP UDP', address: '0.0.0.0', port: 67, setting: 'server.listen.port' };
  const cases = [
    { errno: 'EADDRINUSE', code: 'port_in_use', says: /address already in use; stop the other process or set server\.listen\.port/ },
    { errno: 'EACCES', code: 'port_denied', says: /permission denied; .*CAP_NET_BIND_SERVICE.*server\.listen\.port/ },
    { errno: 'EADDRNOTAVAIL', code: 'address_unavailable', says: /not an address of this host/ },
    { errno: 'EINVAL', code: 'bind_failed', says: /bind EINVAL/ },
  ];
  for (const { errno, code, says } of cases) {
    it(`${errno} → ${code}, one line naming 0.0.0.0:67 and the setting`, () => {
      const err = new BindError(site, Object.assign(new Error(`bind ${errno} 0.0.0.0:67`), { code: errno }));
      assert.equal(err.code, code);
      assert.equal(err.port, 67);
      assert.equal(err.setting, 'server.listen.port');
      assert.match(err.message, /^cannot listen on 0\.0\.0\.0:67 \(DHCP UDP\): /);
      assert.match(err.message, says);
      assert.doesNotMatch(err.message, /\n/);
    });
  }
});
