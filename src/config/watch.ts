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

/** What a watched file delivers: each new content once (by hash), after the kubelet's swap has settled. */
export interface WatchFileOptions {
  onChange(text: string): void;
  debounceMs?: number;
  pollMs?: number;
}

/**
 * Watches the file at `path` (through its symlinks, by watching its directory, plus a slow poll) and
 * calls `onChange` with each content that differs from the last one seen. The content present when this
 * is called counts as seen, so call it right after reading the file.
 */
export function watchFile(path: string, opts: WatchFileOptions): ConfigWatcher {
  const debounceMs = opts.debounceMs ?? 200;
  const pollMs = opts.pollMs ?? 10_000;
  let lastHash = readHashSync(path);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;

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
        try { opts.onChange(text); } catch (err) { log.error('config.watch.callback_failed', { path, err }); }
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

/**
 * Watches the config file at `path`: each new content is parsed and validated, then delivered to
 * `onChange`, or to `onInvalid` when it is not a valid config. Call it right after loading the file.
 */
export function watchConfig(path: string, opts: WatchConfigOptions): ConfigWatcher {
  const fileOpts: WatchFileOptions = {
    onChange(text) {
      let config: Config;
      try {
        config = parseConfigText(text, path);
      } catch (err) {
        if (err instanceof ConfigError) { opts.onInvalid(err); return; }
        throw err;
      }
      opts.onChange(config);
    },
  };
  if (opts.debounceMs !== undefined) fileOpts.debounceMs = opts.debounceMs;
  if (opts.pollMs !== undefined) fileOpts.pollMs = opts.pollMs;
  return watchFile(path, fileOpts);
}
