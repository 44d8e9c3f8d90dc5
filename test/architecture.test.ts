// The shape of src/ (docs/ARCHITECTURE.md): dependency-cruiser with the project's rules
// (.dependency-cruiser.cjs) finds no import circle and no arrow pointing up or sideways, and no source
// file is over 400 lines. The rules are also run on a small made-up tree with one upward import and
// one circle, to show they catch both.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const ROOT = new URL('..', import.meta.url).pathname;
// Run with this Node (22), not whatever `node` the bin script's shebang finds.
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const MAX_LINES = 400;

interface Violation { readonly rule: { readonly name: string }; readonly from: string; readonly to: string }

/** Runs depcruise on `dir` (relative to `cwd`) and returns its violations. */
async function violationsIn(cwd: string, dir: string): Promise<Violation[]> {
  // depcruise exits non-zero when it finds violations; the JSON report is on stdout either way.
  const { stdout } = await promisify(execFile)(process.execPath, [DEPCRUISE, dir, '--config', CONFIG, '--output-type', 'json'], { cwd, maxBuffer: 64 * 1024 * 1024 })
    .catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  const report = JSON.parse(stdout) as { summary: { violations: Violation[] } };
  return report.summary.violations;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('architecture', () => {
  it('src/ has no import circle and every import points to a room below (.dependency-cruiser.cjs)', async () => {
    const violations = await violationsIn(ROOT, 'src');
    assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`), []);
  });

  it(`no file in src/ is over ${MAX_LINES} lines`, () => {
    const long = sourceFiles(join(ROOT, 'src'))
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_LINES);
    assert.deepEqual(long, []);
  });

  describe('the rules catch what they forbid', () => {
    const tree = mkdtempSync(join(tmpdir(), 'arch-'));
    after(() => rmSync(tree, { recursive: true, force: true }));
    const write = (path: string, text: string): void => {
      mkdirSync(join(tree, path, '..'), { recursive: true });
      writeFileSync(join(tree, path), text);
    };
    write('tsconfig.json', readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
    // An upward arrow: the base layer importing the CLI.
    write('src/cli/main.ts', "export const main = 1;\n");
    write('src/net/ipv4.ts', "import { main } from '../cli/main.ts';\nexport const ip = main;\n");
    // A circle inside one room, through a type-only import.
    write('src/failover/rules/a.ts', "import type { B } from './b.ts';\nexport interface A { b?: B }\n");
    write('src/failover/rules/b.ts', "import type { A } from './a.ts';\nexport interface B { a?: A }\n");
    // A sideways arrow between sibling rooms.
    write('src/admin/http.ts', "import { x } from '../operator/x.ts';\nexport const y = x;\n");
    write('src/operator/x.ts', "export const x = 1;\n");
    // A top-level folder no layer names.
    write('src/newroom/thing.ts', "import { ip } from '../net/ipv4.ts';\nexport const t = ip;\n");

    it('reports each of them', async () => {
      const found = (await violationsIn(tree, 'src')).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
      assert.ok(found.includes('layers: base: src/net/ipv4.ts → src/cli/main.ts'), found.join('\n'));
      assert.ok(found.includes('no-circular: src/failover/rules/a.ts → src/failover/rules/b.ts'), found.join('\n'));
      assert.ok(found.includes('layers: admin: src/admin/http.ts → src/operator/x.ts'), found.join('\n'));
      assert.ok(found.includes('every-module-in-a-room: src/newroom/thing.ts → src/net/ipv4.ts'), found.join('\n'));
    });
  });
});
