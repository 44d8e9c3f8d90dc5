// RawConfig (whatever the YAML file held) → frozen Config, or a ConfigError listing EVERY problem
// with the path of the bad field (`scopes[2].ranges[0].start: not an IPv4 address`). Pure: no
// file system, no network, no clock. Defaults and bounds come from defaults.ts only. This file owns
// the root mapping and the freeze; the sections are read by validate-server.ts, validate-scopes.ts
// and relationships.ts (which calls failover.ts per relationship), with the field readers of field-readers.ts.
import { ConfigError } from '../errors.ts';
import { DEFAULTS } from './defaults.ts';
import { bool, mapping, Problems } from './field-readers.ts';
import { validateRelationships } from './relationships.ts';
import type { Config } from './schema.ts';
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
  // Read first (scopes resolve their relationship against it), reported last, in the file's usual order.
  const failoverProblems = new Problems();
  const { relationships, declared } = validateRelationships(failoverProblems, root.failover);
  const scopes = validateScopes(p, root, { listenInterfaces: server?.listen.interfaces, relationships: declared });
  const allowEmptyScopes = bool(p, root, 'allowEmptyScopes', '', DEFAULTS.allowEmptyScopes);
  p.list.push(...failoverProblems.list);
  if (p.list.length > 0 || !server) throw new ConfigError(p.list, source);
  return deepFreeze({ server, scopes, allowEmptyScopes, relationships });
}
