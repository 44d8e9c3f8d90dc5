// The startup hold (what a reconcile right after a start or a takeover refuses to apply) and the servers'
// log level, which is the servers' own and is applied on reload without a pod restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { renderRelationship } from '../../src/operator/render/relationship.ts';
import { DEFAULT_RENDER_OPTIONS, type DhcpFailoverRelationship, type DhcpScope, type KubeObject } from '../../src/operator/render/types.ts';
import { scopesByServer, startupHoldReason } from '../../src/operator/startup-hold.ts';
import { parseOperatorEnv } from '../../src/operator/operator-command.ts';

const EXAMPLES = join(import.meta.dirname, '../../manifests/examples');
const docs = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) => loadAll(readFileSync(join(EXAMPLES, f), 'utf8'))) as any[];
const rel = (): DhcpFailoverRelationship => structuredClone(docs.find((d) => d?.kind === 'DhcpFailoverRelationship' && d.metadata.name === 'site-a'));
const scopes = (): DhcpScope[] => docs.filter((d) => d?.kind === 'DhcpScope').map((d) => structuredClone(d));
const ok = { exists: true, hasKey: true };
const render = (s: DhcpScope[], secret = ok, opts = DEFAULT_RENDER_OPTIONS) => renderRelationship({ relationship: rel(), scopes: s, secret }, opts);
const objectsOf = (r: ReturnType<typeof render>): readonly KubeObject[] => { assert.ok(r.ok); return r.objects; };

test('scopesByServer reads the scope names of each server config in a rendered ConfigMap', () => {
  const cm = objectsOf(render(scopes())).find((o) => o.kind === 'ConfigMap');
  const byServer = scopesByServer(cm);
  assert.deepEqual([...byServer.keys()].sort(), ['dhcp-a.yaml', 'dhcp-b.yaml']);
  for (const names of byServer.values()) assert.ok(names.length >= 2, `site-a serves the office and branch scopes: ${names}`);
});

test('hold: a render that drops scopes a server already runs, or misses the Secret, waits; the same or a larger world applies', () => {
  const full = objectsOf(render(scopes()));
  assert.equal(startupHoldReason([], render([])), undefined, 'nothing applied yet: nothing to protect');
  assert.equal(startupHoldReason(full, render(scopes())), undefined, 'the same world');
  const fewer = startupHoldReason(full, render(scopes().filter((s) => s.metadata.name !== 'branch')));
  assert.match(fewer ?? '', /would lose scope\(s\) branch/);
  const none = startupHoldReason(full, render([]));
  assert.match(none ?? '', /would lose scope/);
  const smaller = objectsOf(render(scopes().filter((s) => s.metadata.name !== 'branch')));
  assert.equal(startupHoldReason(smaller, render(scopes())), undefined, 'a scope added is not held');
  assert.match(startupHoldReason(full, render(scopes(), { exists: false, hasKey: false })) ?? '', /does not exist.*waiting for the cache/);
  const badScope = scopes(); badScope[0]!.spec.subnet = '10.0.0.1/24';
  const invalid = render(badScope);
  assert.equal(invalid.ok, false);
  assert.equal(startupHoldReason(full, invalid), undefined, 'an invalid scope is reported (Degraded), not held');
});

test("the servers' log level is SERVER_LOG_LEVEL, not the operator's LOG_LEVEL; changing it changes the config, not the pod template", () => {
  const env = parseOperatorEnv({ LOG_LEVEL: 'debug' });
  assert.equal(env.logLevel, 'debug');
  assert.equal(env.serverLogLevel, 'info');
  assert.equal(parseOperatorEnv({ SERVER_LOG_LEVEL: 'warn' }).serverLogLevel, 'warn');
  const info = objectsOf(render(scopes()));
  const debug = objectsOf(render(scopes(), ok, { ...DEFAULT_RENDER_OPTIONS, logLevel: 'debug' }));
  const cmText = (objs: readonly KubeObject[]) => JSON.stringify((objs.find((o) => o.kind === 'ConfigMap') as any).data);
  assert.notEqual(cmText(debug), cmText(info), 'the servers get the new level by a config reload');
  const templates = (objs: readonly KubeObject[]) => objs.filter((o) => o.kind === 'StatefulSet').map((s: any) => JSON.stringify(s.spec.template));
  assert.deepEqual(templates(debug), templates(info), 'no pod restarts');
});

test('allowEmptyScopes reaches the server configs only from the relationship annotation, and changes the input hash', () => {
  const plain = render([]);
  assert.ok(plain.ok);
  const cfg = (r: ReturnType<typeof render>) => { assert.ok(r.ok); return (r.objects.find((o) => o.kind === 'ConfigMap') as any).data['dhcp-a.yaml'] as string; };
  assert.doesNotMatch(cfg(plain), /allowEmptyScopes/);
  const annotated = rel();
  annotated.metadata.annotations = { 'dhcp.failover.dev/allow-empty-scopes': 'true' };
  const allowed = renderRelationship({ relationship: annotated, scopes: [], secret: ok }, DEFAULT_RENDER_OPTIONS);
  assert.match(cfg(allowed), /^allowEmptyScopes: true$/m);
  assert.notEqual(allowed.inputHash, plain.inputHash, 'the annotation is applied, not skipped as unchanged');
});
