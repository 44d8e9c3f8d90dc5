// `dhcp-failover local-pair`: the main job on a laptop with no cluster and no Redis — a failover
// pair of two server processes on loopback (primary 127.0.0.2, secondary 127.0.0.3), memory stores,
// the embedded scope on TEST-NET-1. Like the embedded default, it never answers a real client:
// DHCP binds to loopback addresses on an unprivileged port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { EMBEDDED_DEFAULT_RAW } from '../config/embedded-default.ts';
import { validateConfig } from '../config/validate.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
export const LOCAL_PAIR_SIDES = [
  { role: 'primary', address: '127.0.0.2', partner: '127.0.0.3' },
  { role: 'secondary', address: '127.0.0.3', partner: '127.0.0.2' },
] as const;
/** The same on both sides (each side has its own address); `local-pair --help` lists them. */
export const LOCAL_PAIR_PORTS = { dhcp: 6767, admin: 8067, failover: 6647 } as const;
const { dhcp: DHCP_PORT, admin: ADMIN_PORT, failover: FAILOVER_PORT } = LOCAL_PAIR_PORTS;

export function localPairConfigs(): Record<string, unknown>[] {
  return LOCAL_PAIR_SIDES.map((side) => ({
    server: {
      ...EMBEDDED_DEFAULT_RAW.server, name: `local-${side.role}`, serverId: side.address,
      listen: { address: side.address, port: DHCP_PORT }, admin: { address: side.address, port: ADMIN_PORT },
    },
    scopes: structuredClone(EMBEDDED_DEFAULT_RAW.scopes),
    failover: {
      relationship: 'local-pair', role: side.role, address: side.address, port: FAILOVER_PORT,
      partner: { address: side.partner, port: FAILOVER_PORT }, mode: 'load-balance', mcltSeconds: 3600,
      sharedSecret: 'local-pair-demo-secret',
    },
  }));
}

export async function runLocalPair(): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dhcp-local-pair-'));
  const children: ChildProcess[] = [];
  for (const [i, raw] of localPairConfigs().entries()) {
    validateConfig(structuredClone(raw), `local pair config ${i}`); // fail here, clearly, not in a child
    const file = path.join(dir, `${LOCAL_PAIR_SIDES[i]!.role}.yaml`);
    writeFileSync(file, yaml.dump(raw));
    const child = spawn(process.execPath, [...process.execArgv, MAIN, 'server', '--config', file], { stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(child);
  }
  process.stdout.write(LOCAL_PAIR_SIDES.map((s) => `${s.role}: http://${s.address}:${ADMIN_PORT}/status\n`).join('') + 'Ctrl-C stops both.\n');
  const exits = children.map((c, i) => new Promise<{ role: string; code: number }>((resolve) => c.once('exit', (code) => resolve({ role: LOCAL_PAIR_SIDES[i]!.role, code: code ?? 1 }))));
  const stop = () => { for (const c of children) if (c.exitCode === null) c.kill('SIGTERM'); };
  let asked = false; // to stop (Ctrl-C, SIGTERM): then an exit code is no news
  const onSignal = () => { asked = true; stop(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // If one server dies on its own, stop the other too: a half pair is not what the user asked for.
  const first = await Promise.race(exits);
  // The server's own line (a port in use, say) names a setting of its generated config: say that here nothing moves it.
  if (first.code !== 0 && !asked) process.stderr.write(`dhcp-failover local-pair: the ${first.role} server exited with ${first.code}; local-pair's addresses and ports are fixed (dhcp-failover local-pair --help lists them)\n`);
  stop();
  await Promise.all(exits);
  rmSync(dir, { recursive: true, force: true });
  return first.code;
}
