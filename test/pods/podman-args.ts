// What the kubelet would tell a container runtime for one container of a pod, as `podman run` arguments.
// Pure: the pod spec, the container and where things are on this host in, the argument list out (or the
// error the kubelet would report instead of starting the container). kubelet.ts runs it.
//
// Mapped as Kubernetes defines it: command → entrypoint, args → the image CMD's place, $(VAR) expansion
// from the container's env ($$ escapes), env values (already resolved from secretKeyRef/fieldRef),
// volumeMounts (readOnly, subPath), the pod and container securityContext merged (runAsUser/Group,
// runAsNonRoot checked the way the kubelet checks it, fsGroup and supplementalGroups as extra groups,
// capabilities, readOnlyRootFilesystem, allowPrivilegeEscalation, privileged), hostNetwork as the node's
// network namespace. Not mapped: resources (cgroup limits are not delegated in this VM), seccomp
// profiles other than the runtime default (podman's default is the RuntimeDefault), ports without
// hostNetwork (no pod network here).

export type Json = Record<string, any>;

export interface HostContext {
  /** `ns:/run/netns/<name>` for a hostNetwork pod on that node, or `host`. */
  readonly network: string;
  /** Host directory backing a pod volume. */
  readonly volumePath: (volume: string) => string;
  /** The container's env after resolution, in order. */
  readonly env: readonly (readonly [string, string])[];
  /** podman container name. */
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** e.g. ['nofile=20000:20000', 'nproc=20000:20000'] */
  readonly ulimits?: readonly string[];
}

export class ContainerConfigError extends Error {}

/** Kubernetes' $(VAR) expansion (k8s.io/kubernetes/third_party/forked/golang/expansion): $$ → $, unknown left as is. */
export function expand(input: string, env: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== '$' || i + 1 >= input.length) { out += c; continue; }
    const next = input[i + 1]!;
    if (next === '$') { out += '$'; i++; continue; }
    if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end > 0) {
        const name = input.slice(i + 2, end);
        out += env.has(name) ? env.get(name)! : `$(${name})`;
        i = end;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** The effective security settings: container fields win over the pod's (PodSecurityContext). */
export function effectiveSecurity(pod: Json, container: Json): { uid?: number; gid?: number; runAsNonRoot: boolean; groups: number[] } {
  const p = (pod['securityContext'] ?? {}) as Json, c = (container['securityContext'] ?? {}) as Json;
  const uid = (c['runAsUser'] ?? p['runAsUser']) as number | undefined;
  const gid = (c['runAsGroup'] ?? p['runAsGroup']) as number | undefined;
  const groups = [...(p['fsGroup'] !== undefined ? [p['fsGroup'] as number] : []), ...((p['supplementalGroups'] ?? []) as number[])];
  const out: { uid?: number; gid?: number; runAsNonRoot: boolean; groups: number[] } = { runAsNonRoot: (c['runAsNonRoot'] ?? p['runAsNonRoot'] ?? false) as boolean, groups };
  if (uid !== undefined) out.uid = uid;
  if (gid !== undefined) out.gid = gid;
  return out;
}

/** `podman run -d` arguments for one container (without `podman run`), or throws ContainerConfigError. */
export function podmanRunArgs(pod: Json, container: Json, host: HostContext): string[] {
  const sec = effectiveSecurity(pod, container);
  // The kubelet's verifyRunAsNonRoot: an explicit uid 0, or no numeric uid to check, refuses the container.
  if (sec.runAsNonRoot && sec.uid === undefined) throw new ContainerConfigError(`container ${container['name']}: runAsNonRoot without a numeric runAsUser cannot be verified`);
  if (sec.runAsNonRoot && sec.uid === 0) throw new ContainerConfigError(`container ${container['name']}: runAsNonRoot and runAsUser 0`);
  const c = (container['securityContext'] ?? {}) as Json;
  const args = ['-d', '--name', host.name, '--network', host.network, '--pull', 'never'];
  for (const [k, v] of Object.entries(host.labels ?? {})) args.push('--label', `${k}=${v}`);
  for (const u of host.ulimits ?? []) args.push('--ulimit', u);
  if (sec.uid !== undefined) args.push('--user', sec.gid !== undefined ? `${sec.uid}:${sec.gid}` : String(sec.uid));
  for (const g of sec.groups) args.push('--group-add', String(g));
  if (c['privileged'] === true) args.push('--privileged');
  const caps = (c['capabilities'] ?? {}) as { drop?: string[]; add?: string[] };
  for (const d of caps.drop ?? []) args.push('--cap-drop', d.toLowerCase() === 'all' ? 'all' : d);
  for (const a of caps.add ?? []) args.push('--cap-add', a);
  // Kubernetes gives a read-only root nothing writable; podman would add tmpfs on /tmp, /run, /var/tmp.
  if (c['readOnlyRootFilesystem'] === true) args.push('--read-only', '--read-only-tmpfs=false');
  if (c['allowPrivilegeEscalation'] === false) args.push('--security-opt', 'no-new-privileges');
  // Values come from podman's own environment (`--env NAME`), so no secret is on a command line.
  for (const [k] of host.env) args.push('--env', k);
  for (const m of (container['volumeMounts'] ?? []) as Json[]) {
    const src = m['subPath'] ? `${host.volumePath(m['name'] as string)}/${m['subPath'] as string}` : host.volumePath(m['name'] as string);
    args.push('--volume', `${src}:${m['mountPath'] as string}${m['readOnly'] === true ? ':ro' : ''}`);
  }
  const env = new Map(host.env);
  const command = ((container['command'] ?? []) as string[]).map((s) => expand(s, env));
  const cmdArgs = ((container['args'] ?? []) as string[]).map((s) => expand(s, env));
  if (command.length > 0) args.push('--entrypoint', JSON.stringify(command));
  args.push(container['image'] as string, ...cmdArgs);
  return args;
}
