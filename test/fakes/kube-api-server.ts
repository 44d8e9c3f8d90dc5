// A fake Kubernetes API server on node:http for the real @kubernetes/client-node 2.0.1 (no cluster here).
// Faithful where the operator depends on it, a documented subset elsewhere:
// - resources: the table below, namespaced or cluster-scoped, `/api/v1/...` and `/apis/{g}/{v}/...`;
// - list: `{kind: XList, metadata.resourceVersion, items}`, labelSelector (=, ==, !=, in, notin, exists, !key),
//   fieldSelector metadata.name / metadata.namespace;
// - watch: newline-delimited JSON, headers flushed at once, replay from `resourceVersion` (empty/"0" → ADDED
//   for the current state), BOOKMARK every `bookmarkMs` when `allowWatchBookmarks`, `timeoutSeconds`,
//   a resourceVersion older than the kept history (`historyLimit` events) → ERROR event 410 Expired;
// - get / create (409 AlreadyExists, generateName) / update (409 Conflict on a stale resourceVersion, 422 for a
//   custom resource without one) / delete (finalizers → deletionTimestamp; 404);
// - patch: merge patch (RFC 7386), JSON patch (add/remove/replace/test), server-side apply = create if absent,
//   else "remove what this fieldManager applied last time and no longer applies, then merge" (lists atomic,
//   no conflict detection between managers: `force` is accepted and ignored); strategic merge → 415 on CRs,
//   merge semantics on built-ins;
// - status subresource: writes to the main resource keep the old status, writes to /status keep everything
//   but status; `metadata.generation` bumps only when something outside metadata/status changes;
// - optional background garbage collection of dependents whose controller owner is gone;
// - fault injection (`failNext`), dropping watch connections, compacting history, a request log.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { load } from 'js-yaml';

export interface ResourceType {
  readonly group: string; readonly version: string; readonly plural: string; readonly kind: string;
  readonly namespaced: boolean; readonly status: boolean; readonly custom: boolean;
}

export const RESOURCES: readonly ResourceType[] = [
  { group: 'dhcp.failover.dev', version: 'v1alpha1', plural: 'dhcpfailoverrelationships', kind: 'DhcpFailoverRelationship', namespaced: true, status: true, custom: true },
  { group: 'dhcp.failover.dev', version: 'v1alpha1', plural: 'dhcpscopes', kind: 'DhcpScope', namespaced: true, status: true, custom: true },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, status: true, custom: false },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true, status: false, custom: false },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true, status: false, custom: false },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, status: true, custom: false },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, status: false, custom: false },
  { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, status: false, custom: false },
  { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true, status: true, custom: false },
  { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true, status: true, custom: false },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true, status: false, custom: false },
];

type Json = Record<string, any>;
export type Verb = 'list' | 'watch' | 'get' | 'create' | 'update' | 'patch' | 'delete';

export interface RequestRecord {
  readonly verb: Verb; readonly group: string; readonly plural: string; readonly subresource?: string | undefined;
  readonly namespace?: string | undefined; readonly name?: string | undefined; readonly contentType?: string | undefined;
  readonly query: Record<string, string>;
}

export interface Fault {
  /** Which requests fail; the first matching request consumes one count. */
  readonly match: (r: RequestRecord) => boolean;
  readonly code: number;
  readonly reason?: string;
  count: number;
}

interface WatchEvent { readonly rv: number; readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly res: ResourceType; readonly object: Json }

interface Watcher {
  readonly res: ResourceType; readonly namespace: string | undefined; readonly filter: (o: Json) => boolean;
  readonly response: ServerResponse; readonly close: () => void;
}

export interface FakeKubeApiServerOptions {
  /** Watch events kept for replay; older resourceVersions get 410 Gone. */
  readonly historyLimit?: number;
  readonly bookmarkMs?: number;
  /** Delete dependents whose controller owner no longer exists (as the garbage collector would). */
  readonly garbageCollect?: boolean;
}

class HttpError extends Error {
  readonly code: number; readonly reason: string; readonly details: Json | undefined;
  constructor(code: number, reason: string, message: string, details?: Json) { super(message); this.code = code; this.reason = reason; this.details = details; }
}

const keyOf = (res: ResourceType, ns: string | undefined, name: string): string => `${res.group}/${res.plural}/${ns ?? ''}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const apiVersionOf = (res: ResourceType): string => (res.group ? `${res.group}/${res.version}` : res.version);

/** RFC 7386. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Json = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Removes from `target` the fields present in `previous` but absent from `next` (lists are atomic). */
function removeDropped(target: Json, previous: Json, next: Json): void {
  for (const [k, v] of Object.entries(previous)) {
    if (!(k in next)) delete target[k];
    else if (isObj(v) && isObj(next[k]) && isObj(target[k])) removeDropped(target[k], v, next[k]);
  }
}

function jsonPointer(path: string): string[] {
  return path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function jsonPatch(doc: Json, ops: Json[]): Json {
  const out = clone(doc);
  for (const op of ops) {
    const parts = jsonPointer(String(op.path));
    const last = parts.pop();
    let parent: any = out;
    for (const p of parts) { parent = parent?.[Array.isArray(parent) ? Number(p) : p]; }
    if (parent === undefined || last === undefined) throw new HttpError(422, 'Invalid', `path ${op.path} does not exist`);
    const idx = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : last;
    switch (op.op) {
      case 'add': if (Array.isArray(parent)) parent.splice(idx as number, 0, clone(op.value)); else parent[idx] = clone(op.value); break;
      case 'replace': if (!(idx in parent)) throw new HttpError(422, 'Invalid', `path ${op.path} does not exist`); parent[idx] = clone(op.value); break;
      case 'remove': if (!(idx in parent)) throw new HttpError(422, 'Invalid', `path ${op.path} does not exist`); if (Array.isArray(parent)) parent.splice(idx as number, 1); else delete parent[idx]; break;
      case 'test': if (JSON.stringify(parent[idx]) !== JSON.stringify(op.value)) throw new HttpError(422, 'Invalid', `test failed at ${op.path}`); break;
      default: throw new HttpError(422, 'Invalid', `unsupported JSON patch op ${op.op}`);
    }
  }
  return out;
}

/** Kubernetes label selector syntax (the subset client libraries send). */
export function parseLabelSelector(sel: string | undefined): (labels: Record<string, string>) => boolean {
  if (!sel) return () => true;
  const terms: string[] = [];
  let depth = 0, cur = '';
  for (const ch of sel) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { terms.push(cur); cur = ''; } else cur += ch;
  }
  terms.push(cur);
  const tests = terms.map((t) => t.trim()).filter(Boolean).map((t): ((l: Record<string, string>) => boolean) => {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(t))) {
      const [, k, op, vs] = m as unknown as [string, string, string, string];
      const set = new Set(vs.split(',').map((v) => v.trim()));
      return op === 'in' ? (l) => l[k] !== undefined && set.has(l[k]!) : (l) => l[k] === undefined || !set.has(l[k]!);
    }
    if ((m = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(t))) { const [, k, v] = m as unknown as [string, string, string]; return (l) => l[k] !== v; }
    if ((m = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(t))) { const [, k, v] = m as unknown as [string, string, string]; return (l) => l[k] === v; }
    if ((m = /^!(\S+)$/.exec(t))) { const k = m[1]!; return (l) => l[k] === undefined; }
    return (l) => l[t] !== undefined;
  });
  return (labels) => tests.every((f) => f(labels));
}

function parseFieldSelector(sel: string | undefined): (o: Json) => boolean {
  if (!sel) return () => true;
  const tests = sel.split(',').map((t) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(t.trim());
    if (!m) throw new HttpError(400, 'BadRequest', `unsupported field selector ${t}`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const get = (o: Json): unknown => (field === 'metadata.name' ? o.metadata?.name : field === 'metadata.namespace' ? o.metadata?.namespace : undefined);
    if (field !== 'metadata.name' && field !== 'metadata.namespace') throw new HttpError(400, 'BadRequest', `field label not supported: ${field}`);
    return op === '!=' ? (o: Json) => get(o) !== value : (o: Json) => get(o) === value;
  });
  return (o) => tests.every((f) => f(o));
}

/** Everything but metadata and status: a change here bumps metadata.generation. */
function specPart(o: Json): Json { const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o; return rest; }

export class FakeKubeApiServer {
  private readonly server: Server;
  private readonly objects = new Map<string, Json>();
  /** Last body each field manager applied, per object key: what server-side apply removes when dropped. */
  private readonly applied = new Map<string, Map<string, Json>>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly faults: Fault[] = [];
  private readonly delays: { match: (r: RequestRecord) => boolean; ms: number; count: number }[] = [];
  private rv = 1;
  /** Oldest resourceVersion a watch may still start from. */
  private oldestRv = 1;
  readonly requests: RequestRecord[] = [];
  private readonly options: Required<FakeKubeApiServerOptions>;
  url = '';

  constructor(options: FakeKubeApiServerOptions = {}) {
    this.options = { historyLimit: options.historyLimit ?? 1000, bookmarkMs: options.bookmarkMs ?? 1000, garbageCollect: options.garbageCollect ?? true };
    this.server = createServer((req, res) => { void this.handle(req, res); });
  }

  /** `port`: a given one (an API server coming back where a client already points); default any free port. */
  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => { this.server.off('error', reject); resolve(); });
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig for `KubeConfig.loadFromOptions` (http needs skipTLSVerify in client-node 2.x). */
  kubeConfigOptions(): Json {
    return {
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    };
  }

  // ---- harness helpers (what the kubelet, controllers or an admin would do) ----

  failNext(match: (r: RequestRecord) => boolean, code: number, count = 1, reason?: string): void {
    this.faults.push(reason === undefined ? { match, code, count } : { match, code, count, reason });
  }

  /** Forgets every injected fault not yet consumed (credentials accepted again, RBAC fixed). */
  clearFaults(): void { this.faults.length = 0; }

  /** Holds the next `count` matching requests for `ms` before answering (a slow list on a big cluster). */
  delayNext(match: (r: RequestRecord) => boolean, ms: number, count = 1): void {
    this.delays.push({ match, ms, count });
  }

  /** Ends every open watch stream abruptly (a dropped TCP connection). */
  dropWatches(): void {
    for (const w of [...this.watchers]) { w.response.destroy(); w.close(); }
  }

  /** Ends every open watch stream cleanly (as the API server does at its watch timeout). */
  endWatches(): void {
    for (const w of [...this.watchers]) { w.close(); w.response.end(); }
  }

  /** Forgets the watch history: any watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.oldestRv = this.rv;
  }

  get watchCount(): number { return this.watchers.size; }
  get resourceVersion(): string { return String(this.rv); }

  resource(group: string, plural: string): ResourceType {
    const r = RESOURCES.find((x) => x.group === group && x.plural === plural);
    if (!r) throw new Error(`unknown resource ${group}/${plural}`);
    return r;
  }

  getObject(group: string, plural: string, namespace: string | undefined, name: string): Json | undefined {
    const o = this.objects.get(keyOf(this.resource(group, plural), namespace, name));
    return o ? clone(o) : undefined;
  }

  listObjects(group: string, plural: string, namespace?: string): Json[] {
    const res = this.resource(group, plural);
    return [...this.objects.values()].filter((o) => o.kind === res.kind && apiVersionOf(res) === o.apiVersion && (namespace === undefined || o.metadata.namespace === namespace)).map(clone);
  }

  /** Creates or replaces an object directly (a test's kubectl), through the same bookkeeping as the API. */
  put(group: string, plural: string, obj: Json): Json {
    const res = this.resource(group, plural);
    const ns = res.namespaced ? obj.metadata?.namespace ?? 'default' : undefined;
    const current = this.objects.get(keyOf(res, ns, obj.metadata.name));
    if (!current) return this.create(res, ns, clone(obj), false);
    const next = clone(obj);
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.update(res, ns, obj.metadata.name, next, false, true);
  }

  /** Sets `status` as a controller or kubelet would (e.g. StatefulSet readyReplicas). */
  setStatus(group: string, plural: string, namespace: string | undefined, name: string, status: Json): Json {
    const res = this.resource(group, plural);
    const current = this.objects.get(keyOf(res, namespace, name));
    if (!current) throw new Error(`no ${plural} ${namespace}/${name}`);
    return this.update(res, namespace, name, { ...clone(current), status: clone(status) }, true, true);
  }

  remove(group: string, plural: string, namespace: string | undefined, name: string): void {
    this.delete(this.resource(group, plural), namespace, name);
  }

  // ---- storage semantics ----

  private nextRv(): string { this.rv += 1; return String(this.rv); }

  private record(type: WatchEvent['type'], res: ResourceType, object: Json): void {
    const ev: WatchEvent = { rv: Number(object.metadata.resourceVersion), type, res, object: clone(object) };
    this.history.push(ev);
    while (this.history.length > this.options.historyLimit) {
      const dropped = this.history.shift()!;
      this.oldestRv = dropped.rv;
    }
    for (const w of this.watchers) {
      if (w.res === res && (w.namespace === undefined || w.namespace === object.metadata.namespace) && w.filter(object)) {
        w.response.write(JSON.stringify({ type, object }) + '\n');
      }
    }
  }

  private create(res: ResourceType, ns: string | undefined, body: Json, dryRun: boolean): Json {
    if (!isObj(body) || !isObj(body.metadata)) throw new HttpError(400, 'BadRequest', 'object has no metadata');
    const meta = body.metadata;
    if (res.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== ns) throw new HttpError(400, 'BadRequest', `the namespace of the object (${meta.namespace}) does not match the namespace on the request (${ns})`);
      meta.namespace = ns;
    }
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    if (!meta.name) throw new HttpError(422, 'Invalid', 'metadata.name: Required value');
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name) || meta.name.length > 253) throw new HttpError(422, 'Invalid', `metadata.name: Invalid value: ${JSON.stringify(meta.name)}`);
    const key = keyOf(res, ns, meta.name);
    if (this.objects.has(key)) throw new HttpError(409, 'AlreadyExists', `${res.plural} "${meta.name}" already exists`, { name: meta.name, group: res.group, kind: res.plural });
    if (res.status) delete body.status;
    body.apiVersion = apiVersionOf(res);
    body.kind = res.kind;
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    meta.generation = 1;
    delete meta.deletionTimestamp;
    if (dryRun) return body;
    meta.resourceVersion = this.nextRv();
    this.objects.set(key, body);
    this.record('ADDED', res, body);
    return clone(body);
  }

  private update(res: ResourceType, ns: string | undefined, name: string, body: Json, statusWrite: boolean, allowNoRv: boolean): Json {
    const key = keyOf(res, ns, name);
    const current = this.objects.get(key);
    if (!current) throw new HttpError(404, 'NotFound', `${res.plural} "${name}" not found`, { name, group: res.group, kind: res.plural });
    if (!isObj(body) || !isObj(body.metadata)) throw new HttpError(400, 'BadRequest', 'object has no metadata');
    if (body.metadata.name !== undefined && body.metadata.name !== name) throw new HttpError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
    const rv = body.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      if (res.custom && !allowNoRv) throw new HttpError(422, 'Invalid', 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    } else if (rv !== current.metadata.resourceVersion) {
      throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${res.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: res.group, kind: res.plural });
    }
    let next: Json;
    if (statusWrite) {
      next = { ...clone(current), status: clone(body.status) };
      if (body.status === undefined) delete next.status;
    } else {
      next = clone(body);
      next.apiVersion = current.apiVersion;
      next.kind = current.kind;
      // Immutable and server-owned metadata.
      for (const f of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'namespace'] as const) {
        if (current.metadata[f] === undefined) delete next.metadata[f]; else next.metadata[f] = current.metadata[f];
      }
      next.metadata.name = name;
      if (res.status) { if (current.status === undefined) delete next.status; else next.status = clone(current.status); }
      if (JSON.stringify(specPart(next)) !== JSON.stringify(specPart(current))) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
      if (current.metadata.deletionTimestamp) {
        const added = (next.metadata.finalizers ?? []).filter((f: string) => !(current.metadata.finalizers ?? []).includes(f));
        if (added.length > 0) throw new HttpError(422, 'Invalid', 'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted');
      }
    }
    if (JSON.stringify(next) === JSON.stringify(current)) return clone(current); // no-op writes keep the resourceVersion
    next.metadata.resourceVersion = this.nextRv();
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(key);
      this.record('DELETED', res, next);
      this.collectGarbage(next.metadata.uid);
      return clone(next);
    }
    this.objects.set(key, next);
    this.record('MODIFIED', res, next);
    return clone(next);
  }

  private delete(res: ResourceType, ns: string | undefined, name: string, preconditions?: Json): Json {
    const key = keyOf(res, ns, name);
    const current = this.objects.get(key);
    if (!current) throw new HttpError(404, 'NotFound', `${res.plural} "${name}" not found`, { name, group: res.group, kind: res.plural });
    if (preconditions?.resourceVersion && preconditions.resourceVersion !== current.metadata.resourceVersion) throw new HttpError(409, 'Conflict', 'precondition failed: resourceVersion');
    if (preconditions?.uid && preconditions.uid !== current.metadata.uid) throw new HttpError(409, 'Conflict', 'precondition failed: uid');
    if ((current.metadata.finalizers ?? []).length > 0) {
      if (current.metadata.deletionTimestamp) return clone(current);
      const next = clone(current);
      next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      next.metadata.resourceVersion = this.nextRv();
      this.objects.set(key, next);
      this.record('MODIFIED', res, next);
      return clone(next);
    }
    this.objects.delete(key);
    this.applied.delete(key);
    const gone = clone(current);
    gone.metadata.resourceVersion = this.nextRv();
    this.record('DELETED', res, gone);
    this.collectGarbage(current.metadata.uid);
    return gone;
  }

  private collectGarbage(ownerUid: string): void {
    if (!this.options.garbageCollect) return;
    for (const [key, o] of [...this.objects]) {
      if (!(o.metadata.ownerReferences ?? []).some((r: Json) => r.uid === ownerUid)) continue;
      const res = RESOURCES.find((r) => r.kind === o.kind && apiVersionOf(r) === o.apiVersion);
      if (res && this.objects.has(key)) this.delete(res, o.metadata.namespace, o.metadata.name);
    }
  }

  private patch(res: ResourceType, ns: string | undefined, name: string, sub: string | undefined, contentType: string, body: unknown, query: Record<string, string>): Json {
    const key = keyOf(res, ns, name);
    const current = this.objects.get(key);
    const type = contentType.split(';')[0]!.trim();
    if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+cbor') {
      const manager = query.fieldManager;
      if (!manager) throw new HttpError(400, 'BadRequest', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
      if (!isObj(body)) throw new HttpError(400, 'BadRequest', 'apply body must be an object');
      const applied = clone(body);
      if (!current) {
        if (sub === 'status') throw new HttpError(404, 'NotFound', `${res.plural} "${name}" not found`, { name, group: res.group, kind: res.plural });
        const created = this.create(res, ns, clone(body), query.dryRun === 'All');
        if (query.dryRun !== 'All') this.managers(key).set(manager, applied);
        return created;
      }
      const base = clone(current);
      const previous = this.managers(key).get(manager);
      if (previous) removeDropped(base, previous, applied);
      const { resourceVersion: _rv, ...bodyMeta } = (applied.metadata ?? {}) as Json;
      const next = mergePatch(base, { ...applied, metadata: bodyMeta }) as Json;
      next.metadata.resourceVersion = current.metadata.resourceVersion;
      const out = this.update(res, ns, name, next, sub === 'status', true);
      this.managers(key).set(manager, applied);
      return out;
    }
    if (!current) throw new HttpError(404, 'NotFound', `${res.plural} "${name}" not found`, { name, group: res.group, kind: res.plural });
    let next: Json;
    if (type === 'application/merge-patch+json' || (type === 'application/strategic-merge-patch+json' && !res.custom)) {
      if (!isObj(body)) throw new HttpError(400, 'BadRequest', 'merge patch body must be an object');
      const precondition = (body.metadata as Json | undefined)?.resourceVersion;
      if (precondition !== undefined && precondition !== current.metadata.resourceVersion) {
        throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${res.plural} "${name}": the object has been modified`, { name, group: res.group, kind: res.plural });
      }
      next = mergePatch(current, body) as Json;
    } else if (type === 'application/json-patch+json') {
      if (!Array.isArray(body)) throw new HttpError(400, 'BadRequest', 'JSON patch body must be a list');
      next = jsonPatch(current, body);
    } else if (type === 'application/strategic-merge-patch+json') {
      throw new HttpError(415, 'UnsupportedMediaType', 'strategic merge patch is not supported for custom resources');
    } else {
      throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.update(res, ns, name, next, sub === 'status', true);
  }

  private managers(key: string): Map<string, Json> {
    let m = this.applied.get(key);
    if (!m) { m = new Map(); this.applied.set(key, m); }
    return m;
  }

  // ---- HTTP ----

  private route(url: URL): { res: ResourceType; namespace?: string | undefined; name?: string | undefined; sub?: string | undefined } {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string, version: string, rest: string[];
    if (parts[0] === 'api') { group = ''; version = parts[1] ?? ''; rest = parts.slice(2); }
    else if (parts[0] === 'apis') { group = parts[1] ?? ''; version = parts[2] ?? ''; rest = parts.slice(3); }
    else throw new HttpError(404, 'NotFound', `the server could not find the requested resource`);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]; rest = rest.slice(2); }
    const [plural, name, sub, ...extra] = rest;
    const res = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (!res || extra.length > 0 || (sub !== undefined && !(sub === 'status' && res.status))) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    if (res.namespaced === false && namespace !== undefined) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    return { res, namespace, name, sub };
  }

  private async handle(req: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://fake');
      const query = Object.fromEntries(url.searchParams);
      const { res, namespace, name, sub } = this.route(url);
      const method = req.method ?? 'GET';
      const watch = query.watch === 'true' || query.watch === '1';
      const verb: Verb = method === 'GET' ? (name ? 'get' : watch ? 'watch' : 'list')
        : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : 'get';
      const record: RequestRecord = { verb, group: res.group, plural: res.plural, subresource: sub, namespace, name, contentType: req.headers['content-type'], query };
      this.requests.push(record);
      const text = await new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        req.on('error', reject);
      });
      const delay = this.delays.find((d) => d.count > 0 && d.match(record));
      if (delay) { delay.count -= 1; await new Promise((r) => setTimeout(r, delay.ms)); }
      const faultIndex = this.faults.findIndex((f) => f.count > 0 && f.match(record));
      if (faultIndex >= 0) {
        const f = this.faults[faultIndex]!;
        f.count -= 1;
        if (f.count === 0) this.faults.splice(faultIndex, 1);
        throw new HttpError(f.code, f.reason ?? (f.code === 409 ? 'Conflict' : f.code === 410 ? 'Expired' : 'InternalError'), `injected fault ${f.code}`);
      }
      const ct = req.headers['content-type'] ?? 'application/json';
      const body: unknown = text === '' ? undefined : ct.includes('yaml') ? load(text) : JSON.parse(text);
      if (res.namespaced && name === undefined && method === 'POST' && namespace === undefined) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
      if (res.namespaced && name !== undefined && namespace === undefined) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
      switch (verb) {
        case 'watch': return this.serveWatch(res, namespace, query, response);
        case 'list': return this.send(response, 200, this.list(res, namespace, query));
        case 'get': {
          const o = this.objects.get(keyOf(res, namespace, name!));
          if (!o) throw new HttpError(404, 'NotFound', `${res.plural} "${name}" not found`, { name, group: res.group, kind: res.plural });
          return this.send(response, 200, o);
        }
        case 'create': return this.send(response, 201, this.create(res, namespace, body as Json, query.dryRun === 'All'));
        case 'update': return this.send(response, 200, this.update(res, namespace, name!, body as Json, sub === 'status', !res.custom));
        case 'patch': {
          const existed = this.objects.has(keyOf(res, namespace, name!));
          const out = this.patch(res, namespace, name!, sub, ct, body, query);
          return this.send(response, existed ? 200 : 201, out);
        }
        case 'delete': return this.send(response, 200, this.delete(res, namespace, name!, (body as Json | undefined)?.preconditions));
      }
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', err instanceof Error ? err.message : String(err));
      if (response.headersSent) { response.destroy(); return; }
      this.send(response, e.code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, details: e.details, code: e.code });
    }
  }

  private send(response: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }

  private matcher(res: ResourceType, namespace: string | undefined, query: Record<string, string>): (o: Json) => boolean {
    const labels = parseLabelSelector(query.labelSelector);
    const fields = parseFieldSelector(query.fieldSelector);
    return (o) => o.kind === res.kind && o.apiVersion === apiVersionOf(res) && (namespace === undefined || o.metadata.namespace === namespace)
      && labels(o.metadata.labels ?? {}) && fields(o);
  }

  private list(res: ResourceType, namespace: string | undefined, query: Record<string, string>): Json {
    const match = this.matcher(res, namespace, query);
    const items = [...this.objects.values()].filter(match)
      .sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`));
    return { kind: `${res.kind}List`, apiVersion: apiVersionOf(res), metadata: { resourceVersion: String(this.rv) }, items };
  }

  private serveWatch(res: ResourceType, namespace: string | undefined, query: Record<string, string>, response: ServerResponse): void {
    const match = this.matcher(res, namespace, query);
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    response.flushHeaders();
    const from = query.resourceVersion;
    if (from !== undefined && from !== '' && from !== '0' && Number(from) < this.oldestRv) {
      const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.oldestRv})`, reason: 'Expired', code: 410 };
      response.end(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
      return;
    }
    if (from === undefined || from === '' || from === '0') {
      for (const o of [...this.objects.values()].filter(match)) response.write(JSON.stringify({ type: 'ADDED', object: o }) + '\n');
    } else {
      for (const ev of this.history) if (ev.rv > Number(from) && ev.res === res && match(ev.object)) response.write(JSON.stringify({ type: ev.type, object: ev.object }) + '\n');
    }
    const timers: NodeJS.Timeout[] = [];
    const watcher: Watcher = {
      res, namespace, filter: match, response,
      close: () => { for (const t of timers) clearTimeout(t); this.watchers.delete(watcher); },
    };
    this.watchers.add(watcher);
    if (query.allowWatchBookmarks === 'true') {
      const t = setInterval(() => {
        response.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: res.kind, apiVersion: apiVersionOf(res), metadata: { resourceVersion: String(this.rv) } } }) + '\n');
      }, this.options.bookmarkMs);
      timers.push(t);
    }
    if (query.timeoutSeconds !== undefined) timers.push(setTimeout(() => { watcher.close(); response.end(); }, Number(query.timeoutSeconds) * 1000));
    response.on('close', () => watcher.close());
  }
}
