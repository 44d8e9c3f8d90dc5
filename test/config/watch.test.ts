import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Config } from '../../src/config/schema.ts';
import { watchConfig, type ConfigWatcher } from '../../src/config/watch.ts';
import type { ConfigError } from '../../src/errors.ts';

const WAIT_MS = 5_000;
const DEBOUNCE_MS = 20;

const configText = (name: string): string => `server:\n  name: ${name}\n  listen: { address: 127.0.0.1, port: 6767 }\nscopes: []\n`;

type Seen = { kind: 'change'; config: Config } | { kind: 'invalid'; err: ConfigError };

/** Records callbacks in order; `next()` waits (bounded) for the next one. */
function recorder() {
  const queue: Seen[] = [];
  let wake: (() => void) | undefined;
  const push = (s: Seen): void => { queue.push(s); wake?.(); };
  return {
    onChange: (config: Config) => push({ kind: 'change', config }),
    onInvalid: (err: ConfigError) => push({ kind: 'invalid', err }),
    pending: (): number => queue.length,
    async next(): Promise<Seen> {
      const deadline = Date.now() + WAIT_MS;
      while (queue.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) assert.fail(`no config callback within ${WAIT_MS} ms`);
        await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); wake = () => { clearTimeout(t); resolve(); }; });
        wake = undefined;
      }
      return queue.shift() as Seen;
    },
  };
}

async function nextName(rec: ReturnType<typeof recorder>): Promise<string> {
  const seen = await rec.next();
  assert.equal(seen.kind, 'change', seen.kind === 'invalid' ? seen.err.message : '');
  return seen.kind === 'change' ? seen.config.server.name : '';
}

describe('watchConfig', () => {
  let dir = '';
  let watcher: ConfigWatcher | undefined;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cfg-watch-')); });
  afterEach(() => { watcher?.close(); watcher = undefined; rmSync(dir, { recursive: true, force: true }); });

  it('reloads a file edited in place, and skips rewrites with the same content', async () => {
    const file = join(dir, 'server.yaml');
    writeFileSync(file, configText('one'));
    const rec = recorder();
    watcher = watchConfig(file, { ...rec, debounceMs: DEBOUNCE_MS, pollMs: 0 });
    writeFileSync(file, configText('two'));
    assert.equal(await nextName(rec), 'two');
    writeFileSync(file, configText('two')); // no-op: same bytes
    await new Promise((r) => setTimeout(r, DEBOUNCE_MS * 5));
    writeFileSync(file, configText('three'));
    assert.equal(await nextName(rec), 'three', 'the no-op rewrite produced no callback');
  });

  it('reloads after an atomic rename over the file', async () => {
    const file = join(dir, 'server.yaml');
    writeFileSync(file, configText('one'));
    const rec = recorder();
    watcher = watchConfig(file, { ...rec, debounceMs: DEBOUNCE_MS, pollMs: 0 });
    writeFileSync(join(dir, '.server.yaml.tmp'), configText('renamed'));
    renameSync(join(dir, '.server.yaml.tmp'), file);
    assert.equal(await nextName(rec), 'renamed');
  });

  it('reloads a Kubernetes ConfigMap volume when kubelet swaps the ..data symlink', async () => {
    // Layout written by kubelet's AtomicWriter: server.yaml -> ..data/server.yaml, ..data -> ..<timestamp>
    mkdirSync(join(dir, '..2024_01_01_00_00_00.1'));
    writeFileSync(join(dir, '..2024_01_01_00_00_00.1', 'server.yaml'), configText('v1'));
    symlinkSync('..2024_01_01_00_00_00.1', join(dir, '..data'));
    symlinkSync('..data/server.yaml', join(dir, 'server.yaml'));
    const rec = recorder();
    watcher = watchConfig(join(dir, 'server.yaml'), { ...rec, debounceMs: DEBOUNCE_MS, pollMs: 0 });

    for (const [i, name] of [[2, 'v2'], [3, 'v3']] as const) {
      const next = `..2024_01_01_00_00_00.${i}`;
      mkdirSync(join(dir, next));
      writeFileSync(join(dir, next, 'server.yaml'), configText(name));
      symlinkSync(next, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, `..2024_01_01_00_00_00.${i - 1}`), { recursive: true });
      assert.equal(await nextName(rec), name);
    }
  });

  it('reports an invalid file and recovers when it becomes valid again', async () => {
    const file = join(dir, 'server.yaml');
    writeFileSync(file, configText('one'));
    const rec = recorder();
    watcher = watchConfig(file, { ...rec, debounceMs: DEBOUNCE_MS, pollMs: 0 });
    writeFileSync(file, configText('one').replace('port: 6767', 'port: 99999'));
    const bad = await rec.next();
    assert.equal(bad.kind, 'invalid');
    if (bad.kind === 'invalid') assert.deepEqual(bad.err.problems.map((p) => p.path), ['server.listen.port']);
    writeFileSync(file, 'server: [unclosed\n');
    const syntax = await rec.next();
    assert.equal(syntax.kind, 'invalid');
    if (syntax.kind === 'invalid') assert.equal(syntax.err.problems[0]?.path, '(yaml)');
    writeFileSync(file, configText('one'));
    assert.equal(await nextName(rec), 'one', 'the same content as at start is a change after an invalid one');
  });

  it('notices a change by polling alone', async () => {
    const file = join(dir, 'server.yaml');
    writeFileSync(file, configText('one'));
    const rec = recorder();
    // A huge debounce keeps directory events from firing within the test: only the poll can see the change.
    watcher = watchConfig(file, { ...rec, debounceMs: 60_000, pollMs: 25 });
    writeFileSync(file, configText('polled'));
    assert.equal(await nextName(rec), 'polled');
  });

  it('stops calling back after close()', async () => {
    const file = join(dir, 'server.yaml');
    writeFileSync(file, configText('one'));
    const rec = recorder();
    watcher = watchConfig(file, { ...rec, debounceMs: DEBOUNCE_MS, pollMs: 10 });
    watcher.close();
    writeFileSync(file, configText('two'));
    await new Promise((r) => setTimeout(r, DEBOUNCE_MS * 5));
    assert.equal(rec.pending(), 0);
  });
});
