// Reload the config file when it changes, without a restart.
//
// Kubernetes mounts a ConfigMap as `dir/file -> ..data/file`, `..data -> ..2024_01_01_00_00_00.1234`,
// and updates it by writing a new timestamped directory and renaming a new `..data` symlink over
// the old one. Nothing happens to `dir/file` itself, so a watch on the file sees nothing (and a
// watch on the resolved target dies with the old directory). We therefore watch the DIRECTORY,
// treat every event in it as "maybe changed", debounce, re-read the file through its symlinks
// and compare a content hash to skip no-op events. A slow poll covers file systems where
// fs.watch reports nothing (some network and overlay mounts) or inotify watches run out.
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.ts';
import { log } from '../log.ts';
import { parseConfigText } from './load.ts';
import type { Config } from './schema.ts';

export interface WatchConfigOptions {
  /** A new, valid config whose content differs from the last one seen. */
  onChange(config: Config): void;
  /** The file changed but is invalid (or unreadable); the caller keeps running its current config. */
  onInvalid(err: ConfigError): void;
  /** Quiet time after the last event before reading the file (editors and kubelet write in steps). Default 200. */
  debounceMs?: number;
  /** Re-read the file this often even without events; 0 disables. Default 10000. */
  pollMs?: number;
}

export interface ConfigWatcher { close(): void }

const hashOf = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

function readHashSync(path: string): string | undefined {
  try { return hashOf(readFileSync(path)); } catch { return undefined; }
}

/**
 * Watches `path`. The content present when this is called counts as the running config, so the
 * caller should call it right after loading that file.
 */
export function watchConfig(path: string, opts: WatchConfigOptions): ConfigWatcher {
  const debounceMs = opts.debounceMs ?? 200;
  const pollMs = opts.pollMs ?? 10_000;
  let lastHash = readHashSync(path);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;

  const deliver = (fn: () => void, what: string): void => {
    try { fn(); } catch (err) { log.error('config.watch.callback_failed', { callback: what, err }); }
  };

  async function check(): Promise<void> {
    if (running) { again = true; return; }
    running = true;
    try {
      do {
        again = false;
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (err) {
          // Mid-swap or deleted: wait for the next event rather than reporting a transient state.
          log.debug('config.watch.unreadable', { path, code: (err as NodeJS.ErrnoException).code });
          continue;
        }
        if (closed) return;
        const hash = hashOf(text);
        if (hash === lastHash) continue;
        lastHash = hash;
        let config: Config;
        try {
          config = parseConfigText(text, path);
        } catch (err) {
          if (err instanceof ConfigError) { deliver(() => opts.onInvalid(err), 'onInvalid'); continue; }
          throw err;
        }
        deliver(() => opts.onChange(config), 'onChange');
      } while (again && !closed);
    } finally {
      running = false;
    }
  }

  const run = (): void => {
    check().catch((err: unknown) => log.error('config.watch.failed', { path, err }));
  };

  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = undefined; run(); }, debounceMs);
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, schedule);
    watcher.on('error', (err) => log.warn('config.watch.error', { path, err }));
  } catch (err) {
    log.warn('config.watch.unavailable', { path, err, pollMs });
  }
  const poller = pollMs > 0 ? setInterval(run, pollMs) : undefined;
  poller?.unref();

  return {
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
      if (poller) clearInterval(poller);
      watcher?.close();
    },
  };
}
