// Starts a real redis-server on 127.0.0.1 (free port, optional unix socket) in a temp dir,
// stopped by PID. restart() keeps dir, port and data, for durability tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Lab } from './netns-lab.ts';
import { sleep, type TrackedProcess } from './processes.ts';

export interface RedisOptions { unixSocket?: boolean; password?: string; appendonly?: boolean; appendfsync?: 'always' | 'everysec' | 'no' }

export interface RunningRedis {
  readonly port: number; readonly socket?: string; readonly url: string; readonly dir: string;
  pid(): number;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

async function waitReady(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}

export async function startRedis(opts: RedisOptions = {}): Promise<RunningRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dhcp-redis-'));
  const port = await freePort();
  const socket = opts.unixSocket ? path.join(dir, 'redis.sock') : undefined;
  const conf = [
    `bind 127.0.0.1`, `port ${port}`, `dir ${dir}`, `daemonize no`, `save ""`, `logfile ${path.join(dir, 'redis.log')}`,
    `appendonly ${opts.appendonly ? 'yes' : 'no'}`, `appendfsync ${opts.appendfsync ?? 'everysec'}`,
    ...(socket ? [`unixsocket ${socket}`, `unixsocketperm 700`] : []),
    ...(opts.password ? [`requirepass ${opts.password}`] : []),
  ].join('\n');
  writeFileSync(path.join(dir, 'redis.conf'), conf + '\n');
  let child: ChildProcess;
  const launch = async () => {
    child = spawn('/usr/bin/redis-server', [path.join(dir, 'redis.conf')], { stdio: 'ignore' });
    await waitReady(port, 5000);
  };
  const exited = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(); else child.once('exit', () => resolve());
  });
  await launch();
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    port, dir, url: `redis://${auth}127.0.0.1:${port}`, ...(socket ? { socket } : {}),
    pid: () => child.pid ?? -1,
    async stop() { child.kill('SIGTERM'); await exited(); rmSync(dir, { recursive: true, force: true }); },
    async kill9() { child.kill('SIGKILL'); await exited(); },
    async restart() { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited(); } await launch(); },
  };
}

/**
 * A redis-server inside a lab namespace, as the operator runs it: unix socket `<dir>/redis.sock`,
 * append-only with fsync always, no RDB. Resolves once it answers PING (bounded: 10 s).
 */
export async function startLabRedis(lab: Lab, node: string, dir: string, logFile = path.join(dir, 'redis.log')): Promise<{ proc: TrackedProcess; socket: string }> {
  const socket = path.join(dir, 'redis.sock');
  await lab.exec(node, 'mkdir', ['-p', dir]);
  const proc = lab.spawn(node, 'redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { logFile });
  for (let i = 0; i < 100; i++) {
    if ((await lab.exec(node, 'redis-cli', ['-s', socket, 'ping'], { allowFail: true })).stdout.trim() === 'PONG') return { proc, socket };
    await sleep(100);
  }
  throw new Error(`redis-server in ${node} did not answer PING within 10 s (log: ${logFile})`);
}
