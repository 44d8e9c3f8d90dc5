import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANNOTATIONS, type KubeObject } from '../../src/operator/render/types.ts';
import { planRollout, type ObservedSts } from '../../src/operator/rollout.ts';
import type { ServerReport } from '../../src/operator/server-status.ts';

const sts = (name: string, template: string): KubeObject => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, annotations: { [ANNOTATIONS.templateHash]: template } } });
const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } };
const seen = (template: string, ready = true): ObservedSts => ({ templateHash: template, readyReplicas: ready ? 1 : 0, observedGeneration: 2, generation: 2 });
const servers = [{ sts: 'b', server: 'dhcp-b' }, { sts: 'a', server: 'dhcp-a' }];
const normal: ServerReport = { state: 'normal', partnerState: 'normal' };
const names = (p: ReturnType<typeof planRollout>) => ({ apply: p.apply.map((o) => o.metadata.name), held: p.held.map((h) => h.object.metadata.name) });

describe('planRollout', () => {
  const desired = [cm, sts('a', 'new'), sts('b', 'new')];
  it('first install: everything at once', () => {
    assert.deepEqual(names(planRollout({ desired, observed: new Map(), reports: new Map(), servers })), { apply: ['cfg', 'a', 'b'], held: [] });
  });
  it('both healthy and both changed: the first in order restarts, the other waits', () => {
    const observed = new Map([['a', seen('old')], ['b', seen('old')]]);
    const reports = new Map([['dhcp-a', normal], ['dhcp-b', normal]]);
    assert.deepEqual(names(planRollout({ desired, observed, reports, servers })), { apply: ['cfg', 'b'], held: ['a'] });
  });
  it('the restarted one is back but not NORMAL yet: the other still waits', () => {
    const observed = new Map([['a', seen('old')], ['b', seen('new')]]);
    const reports = new Map<string, ServerReport>([['dhcp-a', normal], ['dhcp-b', { state: 'recover', partnerState: 'partner-down' }]]);
    assert.deepEqual(names(planRollout({ desired, observed, reports, servers })).held, ['a']);
    const back = new Map([['dhcp-a', normal], ['dhcp-b', normal]]);
    assert.deepEqual(names(planRollout({ desired, observed, reports: back, servers })), { apply: ['cfg', 'b', 'a'], held: [] });
  });
  it('a server that is not healthy anyway is restarted at once, and a healthy one waits for it', () => {
    const observed = new Map([['a', seen('old')], ['b', seen('old', false)]]);
    assert.deepEqual(names(planRollout({ desired, observed, reports: new Map([['dhcp-a', normal]]), servers })), { apply: ['cfg', 'b'], held: ['a'] });
  });
  it('a template that did not change is applied as rendered (metadata-only changes never wait)', () => {
    const observed = new Map([['a', seen('new')], ['b', seen('new', false)]]);
    assert.deepEqual(names(planRollout({ desired, observed, reports: new Map(), servers })), { apply: ['cfg', 'a', 'b'], held: [] });
  });
  it('without reports (admin port unreachable) readiness alone decides', () => {
    const observed = new Map([['a', seen('old')], ['b', seen('new')]]);
    const unreachable = new Map<string, ServerReport>([['dhcp-a', { state: 'unreachable', partnerState: null }], ['dhcp-b', { state: 'unreachable', partnerState: null }]]);
    assert.deepEqual(names(planRollout({ desired, observed, reports: unreachable, servers })).held, []);
  });
});
