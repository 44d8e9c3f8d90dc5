// `dhcp-failover local-pair` (the README's main job): both configs are valid, both servers reach
// NORMAL on loopback, and SIGTERM stops both.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { localPairConfigs } from '../../src/cli/local-pair-command.ts';
import { validateConfig } from '../../src/config/validate.ts';

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));

async function stateOf(address: string): Promise<string | undefined> {
  try {
    const s = await (await fetch(`http://${address}:8067/status`)).json() as { failover?: { state?: string } };
    return s.failover?.state;
  } catch { return undefined; }
}

describe('local-pair', () => {
  it('renders two valid configs, one primary and one secondary, each pointing at the other', () => {
    const [a, b] = localPairConfigs().map((raw) => validateConfig(raw));
    assert.equal(a?.relationships[0]?.role, 'primary');
    assert.equal(b?.relationships[0]?.role, 'secondary');
    assert.notEqual(a?.server.serverId, b?.server.serverId);
  });

  it('runs a pair that reaches NORMAL on both sides and stops on SIGTERM', async () => {
    const child = spawn(BIN, ['local-pair'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 30_000;
      let states: (string | undefined)[] = [];
      while (Date.now() < deadline) {
        states = await Promise.all(['127.0.0.2', '127.0.0.3'].map(stateOf));
        if (states.every((s) => s === 'normal')) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.deepEqual(states, ['normal', 'normal']);
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    assert.deepEqual(await Promise.all(['127.0.0.2', '127.0.0.3'].map(stateOf)), [undefined, undefined], 'both servers stopped');
  });
});
