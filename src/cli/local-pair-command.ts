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
const SIDES = [
  { role: 'primary', address: '127.0.0.2', partner: '127.0.0.3' },
  { role: 'secondary', address: '127.0.0.3', partner: '127.0.0.2' },
] as const;
const DHCP_PORT = 6767, ADMIN_PORT = 8067, FAILOVER_PORT = 6647;

export function localPairConfigs(): Record<string, unknown>[] {
  return SIDES.map((side) => ({
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
    const file = path.join(dir, `${SIDES[i]!.role}.yaml`);
    writeFileSync(file, yaml.dump(raw));
    const child = spawn(process.execPath, [...process.execArgv, MAIN, 'server', '--config', file], { stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(child);
  }
  process.stdout.write(SIDES.map((s) => `${s.role}: http://${s.address}:${ADMIN_PORT}/status\n`).join('') + 'Ctrl-C stops both.\n');
  const exits = children.map((c) => new Promise<number>((resolve) => c.once('exit', (code) => resolve(code ?? 1))));
  const stop = () => { for (const c of children) if (c.exitCode === null) c.kill('SIGTERM'); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // If one server dies on its own, stop the other too: a half pair is not what the user asked for.
  const first = await Promise.race(exits);
  stop();
  await Promise.all(exits);
  rmSync(dir, { recursive: true, force: true });
  return first;
}
