// One error base with a stable `code`: callers branch on the code, never on message text.

export class DhcpFailoverError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A malformed packet or message; `reason` becomes a drop-counter label, so keep the set small. */
export class DecodeError extends DhcpFailoverError {
  readonly offset: number;
  constructor(reason: string, message: string, offset = -1) {
    super(reason, message);
    this.offset = offset;
  }
}

export interface ConfigProblem { readonly path: string; readonly message: string }

/** Every problem found in a config file, each with the path of the bad field. */
export class ConfigError extends DhcpFailoverError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], source = 'config') {
    super('config_invalid', `${source}: ${problems.length} problem(s)\n` + problems.map((p) => `  ${p.path}: ${p.message}`).join('\n'));
    this.problems = problems;
  }
}

export class ProtocolError extends DhcpFailoverError {}

export class StoreError extends DhcpFailoverError {}
