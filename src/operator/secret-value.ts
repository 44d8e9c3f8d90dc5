// The relationship's bearer token for the servers' admin API: the shared-secret Secret's key that the
// rendered server config names as admin.tokenFile (render/server-config.ts `secretKey`, `secretFilePath`).
// Secrets are watched as metadata only (kube.ts), so the value is read by GET: once per resourceVersion
// the watch shows, not on every poll. Values are kept in memory only and never logged.
import { secretKey } from './render/server-config.ts';
import type { DhcpFailoverRelationship } from './render/types.ts';

/** A Secret as read by GET (data base64), or undefined when it does not exist. */
export type SecretRead = { readonly data?: Readonly<Record<string, string>> | undefined } | undefined;

/** The token in a read Secret, trimmed as the server trims its token file (pure). */
export function tokenFromSecret(rel: DhcpFailoverRelationship, secret: SecretRead): string | undefined {
  const b64 = secret?.data?.[secretKey(rel)];
  const token = b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8').trim();
  return token ? token : undefined;
}

export interface RelationshipToken {
  readonly token: string;
  /**
   * The value before the Secret's last change. A kubelet swaps a Secret volume up to about a minute
   * after the change, so a server may still hold the old file; a caller refused with the new token tries this.
   */
  readonly previous?: string;
}

export interface SecretValueDeps {
  /** The watched metadata of the Secret: undefined when the informer does not hold it. */
  readonly metadata: (namespace: string, name: string) => { readonly resourceVersion?: string | undefined } | undefined;
  /** GET of the whole Secret. */
  readonly read: (namespace: string, name: string) => Promise<SecretRead>;
}

interface Entry { readonly resourceVersion: string | undefined; readonly token: string | undefined; readonly previous: string | undefined }

/** Bearer tokens per relationship Secret, re-read only when the watched resourceVersion changes. */
export class SecretValueCache {
  private readonly deps: SecretValueDeps;
  /** By namespace/name#key. */
  private readonly entries = new Map<string, Entry>();
  private readonly reading = new Map<string, Promise<Entry>>();

  constructor(deps: SecretValueDeps) { this.deps = deps; }

  /**
   * The token of `rel`, or undefined when it has no sharedSecretRef (its servers have no token file) or the
   * Secret holds no such key. A Secret gone from the cache keeps its last value: the servers keep their
   * mounted file too. A failed GET rejects, unless a value for an older version is known (then that one).
   */
  async tokenFor(rel: DhcpFailoverRelationship): Promise<RelationshipToken | undefined> {
    const ref = rel.spec.sharedSecretRef;
    const namespace = rel.metadata.namespace;
    if (ref === undefined || namespace === undefined) return undefined;
    const id = `${namespace}/${ref.name}#${secretKey(rel)}`;
    const meta = this.deps.metadata(namespace, ref.name);
    const known = this.entries.get(id);
    let entry: Entry | undefined = known;
    if (meta !== undefined && (known === undefined || known.resourceVersion !== meta.resourceVersion)) {
      try {
        entry = await this.read(id, rel, namespace, ref.name, meta.resourceVersion, known);
      } catch (err) {
        if (known?.token === undefined) throw err;
      }
    }
    if (entry?.token === undefined) return undefined;
    return { token: entry.token, ...(entry.previous !== undefined ? { previous: entry.previous } : {}) };
  }

  /** One GET per Secret version, however many pollers ask at once. */
  private read(id: string, rel: DhcpFailoverRelationship, namespace: string, name: string, resourceVersion: string | undefined, known: Entry | undefined): Promise<Entry> {
    const inFlight = this.reading.get(id);
    if (inFlight !== undefined) return inFlight;
    const p = this.deps.read(namespace, name).then((secret) => {
      // Deleted between the watch event and the GET: keep what was known (retried at the next version).
      if (secret === undefined) return known ?? { resourceVersion: undefined, token: undefined, previous: undefined };
      const token = tokenFromSecret(rel, secret);
      const previous = known?.token !== undefined && known.token !== token ? known.token : known?.previous;
      const entry: Entry = { resourceVersion, token, previous: previous !== token ? previous : undefined };
      this.entries.set(id, entry);
      return entry;
    }).finally(() => this.reading.delete(id));
    this.reading.set(id, p);
    return p;
  }
}
