// A ConfigMap or Secret volume laid out the way the kubelet's AtomicWriter does it, so a container sees
// exactly what it would see in a real pod, including the update:
//   <dir>/..2026_12_03_18_40_01.123456789/config.yaml   the files of one version (a timestamped dir)
//   <dir>/..data -> ..2026_12_03_18_40_01.123456789      swapped with one rename(2) on update
//   <dir>/config.yaml -> ..data/config.yaml              the user-visible names, symlinks through ..data
// An update writes a new timestamped dir, points `..data_tmp` at it, renames `..data_tmp` over `..data`
// (atomic), then removes the old dir: a reader holding the old path sees the old content or the new, never
// half of each. With an fsGroup the kubelet hands the files to that group and adds group read (0440 for a
// read-only Secret volume, as SetVolumeOwnership does).
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ProjectedFile {
  /** Path inside the volume (an item's `path`, or the key). */
  readonly path: string;
  readonly data: Buffer;
  /** The item's mode, else the volume's defaultMode (0644 when unset). */
  readonly mode: number;
}

/** The files of a configMap or secret volume source: its `items` (key → path, mode) or every key. */
export function filesOf(
  source: { items?: readonly { key: string; path: string; mode?: number }[]; defaultMode?: number },
  data: ReadonlyMap<string, Buffer>,
): ProjectedFile[] {
  const mode = source.defaultMode ?? 0o644;
  const items: readonly { key: string; path: string; mode?: number }[] = source.items ?? [...data.keys()].sort().map((key) => ({ key, path: key }));
  return items.flatMap((i) => {
    const d = data.get(i.key);
    return d === undefined ? [] : [{ path: i.path, data: d, mode: i.mode ?? mode }];
  });
}

const timestampDir = (now: Date): string => `..${now.toISOString().replace(/[-:T]/g, '_').replace('Z', '')}${process.hrtime.bigint() % 1000n}`;

/**
 * Writes (or updates) the volume at `dir`. Returns false when the content is already what is there
 * (no swap, as the kubelet skips identical payloads).
 */
export function writeProjection(dir: string, files: readonly ProjectedFile[], fsGroup: number | undefined): boolean {
  mkdirSync(dir, { recursive: true });
  const data = join(dir, '..data');
  const current = existsSync(data) ? readlinkSync(data) : undefined;
  if (current !== undefined && sameContent(join(dir, current), files)) return false;
  const version = timestampDir(new Date());
  const versionDir = join(dir, version);
  mkdirSync(versionDir, { mode: 0o755 });
  for (const f of files) {
    const target = join(versionDir, f.path);
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    // A read-only volume with an fsGroup: group read is added (the kubelet's roMask 0440).
    const mode = fsGroup === undefined ? f.mode : f.mode | 0o440;
    writeFileSync(target, f.data, { mode });
    if (fsGroup !== undefined) chownSync(target, 0, fsGroup);
  }
  if (fsGroup !== undefined) chownSync(versionDir, 0, fsGroup);
  const tmp = join(dir, '..data_tmp');
  rmSync(tmp, { force: true });
  symlinkSync(version, tmp);
  renameSync(tmp, data);
  // The user-visible names; top-level entries only (a nested path's first component is the link).
  const names = new Set(files.map((f) => f.path.split('/')[0]!));
  for (const name of names) {
    const link = join(dir, name);
    if (!isSymlink(link)) symlinkSync(join('..data', name), link);
  }
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry.startsWith('..') && entry !== '..data' && entry !== version) rmSync(path, { recursive: true, force: true });
    else if (!entry.startsWith('..') && !names.has(entry)) rmSync(path, { force: true }); // a key that went away
  }
  return true;
}

function isSymlink(path: string): boolean {
  try { return lstatSync(path).isSymbolicLink(); } catch { return false; }
}

function sameContent(versionDir: string, files: readonly ProjectedFile[]): boolean {
  try {
    const have = readdirRecursive(versionDir);
    if (have.length !== files.length) return false;
    return files.every((f) => { const p = join(versionDir, f.path); return existsSync(p) && Buffer.compare(readFileSync(p), f.data) === 0; });
  } catch { return false; }
}

function readdirRecursive(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? readdirRecursive(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]);
}
