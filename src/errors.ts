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

/** A listening socket, what it is for, and the setting (config path or env var) that moves it. */
export interface BindSite { readonly what: string; readonly address: string; readonly port: number; readonly setting: string }

/**
 * A socket could not be bound: the port is taken (`port_in_use`), below 1024 without the privilege
 * (`port_denied`), or the address is not this host's (`address_unavailable`). The message is one line
 * naming address:port and the setting to change; the CLI prints it and exits 1.
 */
export class BindError extends DhcpFailoverError {
  readonly address: string;
  readonly port: number;
  readonly setting: string;
  constructor(site: BindSite, cause: unknown) {
    const errno = (cause as { code?: unknown }).code;
    const [code, why, fix] = errno === 'EADDRINUSE' ? ['port_in_use', 'address already in use', `stop the other process or set ${site.setting} to another port`]
      : errno === 'EACCES' ? ['port_denied', 'permission denied', `ports below 1024 need CAP_NET_BIND_SERVICE, or set ${site.setting} to a port from 1024`]
        : errno === 'EADDRNOTAVAIL' ? ['address_unavailable', 'not an address of this host', `check the address that goes with ${site.setting}`]
          : ['bind_failed', cause instanceof Error ? cause.message : String(cause), `check ${site.setting}`];
    super(code, `cannot listen on ${site.address}:${site.port} (${site.what}): ${why}; ${fix}`, { cause });
    this.address = site.address;
    this.port = site.port;
    this.setting = site.setting;
  }
}
