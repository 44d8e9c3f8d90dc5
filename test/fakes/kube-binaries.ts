// Where the bare control plane's binaries come from (test/fakes/kube-control-plane.ts), in this order:
//   1. $KUBEBUILDER_ASSETS: the envtest convention, a folder holding `kube-apiserver` and `etcd`
//      (what `setup-envtest use -p path` prints), so the same tests run on a developer laptop;
//   2. ../shared/k8s/ next to the repo: `kube-apiserver.xz` (checked against `kube-apiserver.sha256`,
//      unpacked once into os.tmpdir() under a name holding the checksum) and Debian's `etcd` on PATH.
// `controlPlaneUnavailable` says exactly what is missing when neither is there, for t.skip(reason).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream, createWriteStream, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared/k8s/ relative to the repo root (this file is test/fakes/kube-binaries.ts). */
export const SHARED_K8S_DIR = fileURLToPath(new URL('../../../shared/k8s/', import.meta.url));

export interface ControlPlaneBinaries {
  readonly kubeApiServer: string;
  readonly etcd: string;
  /** Where they were found, for messages: `KUBEBUILDER_ASSETS=…` or the shared folder. */
  readonly source: string;
}

/** What `locate` found: binaries ready to run, or the shared xz still to unpack, or why not. */
type Located =
  | { readonly kind: 'ready'; readonly binaries: ControlPlaneBinaries }
  | { readonly kind: 'unpack'; readonly xz: string; readonly sha256: string; readonly etcd: string }
  | { readonly kind: 'missing'; readonly reason: string };

const HOW_TO_GET = 'get them with setup-envtest (go install sigs.k8s.io/controller-runtime/tools/setup-envtest@latest; '
  + 'export KUBEBUILDER_ASSETS=$(setup-envtest use -p path 1.31.x)), or provide ../shared/k8s/kube-apiserver.xz '
  + 'with kube-apiserver.sha256 and install Debian\'s etcd-server (scripts/install.sh)';

function isExecutable(path: string): boolean {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

/** The first executable `name` on PATH, or undefined. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The unpacked apiserver's cache path: content-addressed, shared with ../shared/k8s/start.sh. */
export function unpackedPath(sha256: string): string {
  return join(tmpdir(), `kube-apiserver-${sha256}`);
}

function locate(env: NodeJS.ProcessEnv): Located {
  const problems: string[] = [];
  for (const tool of ['openssl']) if (!onPath(tool, env)) problems.push(`${tool} is not on PATH (Debian package ${tool})`);
  const assets = env['KUBEBUILDER_ASSETS'];
  if (assets) {
    const missing = ['kube-apiserver', 'etcd'].filter((b) => !isExecutable(join(assets, b)));
    if (missing.length > 0) {
      return { kind: 'missing', reason: `KUBEBUILDER_ASSETS=${assets} has no executable ${missing.join(' or ')}; ${HOW_TO_GET}` };
    }
    if (problems.length > 0) return { kind: 'missing', reason: problems.join('; ') };
    return { kind: 'ready', binaries: { kubeApiServer: join(assets, 'kube-apiserver'), etcd: join(assets, 'etcd'), source: `KUBEBUILDER_ASSETS=${assets}` } };
  }
  const xz = join(SHARED_K8S_DIR, 'kube-apiserver.xz');
  const sumFile = join(SHARED_K8S_DIR, 'kube-apiserver.sha256');
  if (!existsSync(xz) || !existsSync(sumFile)) {
    return { kind: 'missing', reason: `no kube-apiserver: KUBEBUILDER_ASSETS is not set and ${existsSync(xz) ? sumFile : xz} does not exist; ${HOW_TO_GET}` };
  }
  const sha256 = readFileSync(sumFile, 'utf8').trim().split(/\s+/)[0] ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha256)) problems.push(`${sumFile} does not hold a SHA-256`);
  const etcd = onPath('etcd', env);
  if (!etcd) problems.push('KUBEBUILDER_ASSETS is not set and etcd is not on PATH (Debian package etcd-server, or set KUBEBUILDER_ASSETS)');
  const unpacked = unpackedPath(sha256);
  if (!isExecutable(unpacked) && !onPath('xz', env)) problems.push(`xz is not on PATH to unpack ${xz} (Debian package xz-utils)`);
  if (problems.length > 0 || !etcd) return { kind: 'missing', reason: problems.join('; ') };
  if (isExecutable(unpacked)) return { kind: 'ready', binaries: { kubeApiServer: unpacked, etcd, source: SHARED_K8S_DIR } };
  return { kind: 'unpack', xz, sha256, etcd };
}

/**
 * Why a control plane cannot start here (what is missing and how to get it), or undefined when it can.
 * For `describe(…, { skip: controlPlaneUnavailable })` or `t.skip(reason)`.
 */
export function whyNoControlPlane(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const l = locate(env);
  return l.kind === 'missing' ? `no Kubernetes control plane: ${l.reason}` : undefined;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `xz -dc xz > out`, bounded by `timeoutMs`. */
async function unxz(xz: string, out: string, timeoutMs: number): Promise<void> {
  const child = spawn('xz', ['-dc', xz], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [, { code, signal }] = await Promise.all([pipeline(child.stdout, createWriteStream(out, { mode: 0o755 })), exited]);
    if (code !== 0) throw new Error(`xz -dc ${xz}: code ${code} signal ${signal}: ${stderr.trim()}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The binaries to run, unpacking the shared apiserver first if needed: into `<name>.part-<pid>`, checksum
 * checked, then renamed into place (atomic; several test files racing each unpack and one rename wins).
 * Throws with `whyNoControlPlane()`'s reason when there are none.
 */
export async function controlPlaneBinaries(env: NodeJS.ProcessEnv = process.env): Promise<ControlPlaneBinaries> {
  const l = locate(env);
  if (l.kind === 'missing') throw new Error(`no Kubernetes control plane: ${l.reason}`);
  if (l.kind === 'ready') return l.binaries;
  const target = unpackedPath(l.sha256);
  const part = `${target}.part-${process.pid}-${Date.now()}`;
  try {
    await unxz(l.xz, part, 60_000);
    const got = await sha256Of(part);
    if (got !== l.sha256) throw new Error(`${l.xz}: checksum mismatch (unpacked ${got}, kube-apiserver.sha256 says ${l.sha256})`);
    renameSync(part, target);
  } finally {
    rmSync(part, { force: true });
  }
  return { kubeApiServer: target, etcd: l.etcd, source: SHARED_K8S_DIR };
}
