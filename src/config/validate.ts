// RawConfig (whatever the YAML file held) → frozen Config, or a ConfigError listing EVERY problem
// with the path of the bad field (`scopes[2].ranges[0].start: not an IPv4 address`). Pure: no
// file system, no network, no clock. Defaults and bounds come from defaults.ts only. This file owns
// the root mapping and the freeze; the sections are read by validate-server.ts, validate-scopes.ts
// and failover.ts, with the field readers of field-readers.ts.
import { ConfigError } from '../errors.ts';
import { DEFAULTS } from './defaults.ts';
import { validateFailover } from './failover.ts';
import { bool, mapping, Problems } from './field-readers.ts';
import type { Config, FailoverConfig } from './schema.ts';
import { validateScopes } from './validate-scopes.ts';
import { validateServer } from './validate-server.ts';

const ROOT_KEYS = ['server', 'scopes', 'allowEmptyScopes', 'failover'] as const;

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

/** Validates a parsed config file. `source` (a file name) prefixes the error message. */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const p = new Problems();
  const root = mapping(p, raw, '', ROOT_KEYS);
  if (!root) throw new ConfigError(p.list, source);
  const server = validateServer(p, root.server);
  const scopes = validateScopes(p, root, server?.listen.interfaces);
  const allowEmptyScopes = bool(p, root, 'allowEmptyScopes', '', DEFAULTS.allowEmptyScopes);
  let failover: FailoverConfig | undefined;
  if (root.failover !== undefined && root.failover !== null) {
    const f = validateFailover(root.failover, 'failover');
    for (const problem of f.problems) p.add(problem.path, problem.message);
    failover = f.config;
  }
  if (p.list.length > 0 || !server) throw new ConfigError(p.list, source);
  return deepFreeze({ server, scopes, allowEmptyScopes, ...(failover !== undefined && { failover }) });
}
