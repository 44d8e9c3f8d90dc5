// Config file → frozen Config. YAML is parsed with js-yaml's default schema (plain data only: no
// functions or custom tags) and duplicate keys rejected; syntax errors become a ConfigError too,
// so every way a config can be wrong reaches the operator the same way.
import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { ConfigError } from '../errors.ts';
import type { Config } from './schema.ts';
import { validateConfig } from './validate.ts';

/** Parses YAML text; a syntax error is one problem at path "(yaml)" giving line and column (1-based). */
export function parseYaml(text: string, source = 'config'): unknown {
  try {
    return yaml.load(text, { filename: source });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const where = err.mark ? `line ${err.mark.line + 1}, column ${err.mark.column + 1}: ` : '';
      throw new ConfigError([{ path: '(yaml)', message: `${where}${err.reason}` }], source);
    }
    // js-yaml itself can throw on odd tags (e.g. an empty `!!binary` value: a TypeError found by fuzzing).
    throw new ConfigError([{ path: '(yaml)', message: `cannot parse: ${(err as Error)?.message ?? String(err)}` }], source);
  }
}

export function parseConfigText(text: string, source = 'config'): Config {
  return validateConfig(parseYaml(text, source), source);
}

/** Reads and validates a config file; an unreadable file is a ConfigError at path "(file)". */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([{ path: '(file)', message: `cannot read ${path}: ${code}` }], path);
  }
  return parseConfigText(text, path);
}
