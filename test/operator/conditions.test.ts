// The relationship's conditions from StatefulSet readiness and the servers' own /status (conditions.ts,
// pure): a table of { name, input, expected } cases over Ready / Progressing / Degraded, then the
// lastSuccessfulSync rule (moves only while both are NORMAL with nothing unacked) and write stability.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeRelationshipStatus, findCondition, STATUS_HEARTBEAT_MS, UNACKED_UPDATES_THRESHOLD, type ObservedServer, type StatusInput } from '../../src/operator/conditions.ts';
import type { ServerReport } from '../../src/operator/server-status.ts';
import { ANNOTATIONS, type DhcpFailoverRelationship, type KubeObject, type RelationshipStatus, type RenderResult } from '../../src/operator/render/types.ts';

const at = (min: number, sec = 0) => new Date(Date.UTC(2026, 10, 30, 10, min, sec)).toISOString().replace(/\.\d+Z$/, 'Z');

const pair: DhcpFailoverRelationship = {
  apiVersion: 'dhcp.failover.dev/v1alpha1', kind: 'DhcpFailoverRelationship', metadata: { name: 'r', namespace: 'n', generation: 3 },
  spec: { mode: 'loadBalance', servers: [{ name: 'a', address: '10.0.0.2', nodeName: 'n1' }, { name: 'b', address: '10.0.0.3', nodeName: 'n2' }] } as DhcpFailoverRelationship['spec'],
};
const withExternal: DhcpFailoverRelationship = {
  ...pair, spec: { ...pair.spec, partnerDialect: 'isc', servers: [pair.spec.servers[0]!, { name: 'isc', address: '10.0.0.9', external: true }] } as DhcpFailoverRelationship['spec'],
};

/** Desired StatefulSets carry the template hash `t1` (what rollout.ts compares). */
const stsObject = (name: string): KubeObject => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, annotations: { [ANNOTATIONS.templateHash]: 't1' } } }) as unknown as KubeObject;
const okResult = { ok: true, objects: [stsObject('r-a'), stsObject('r-b')], inputHash: 'h', scopes: ['s'] } as unknown as RenderResult;

const readySts = (m: Partial<ObservedServer> = {}): ObservedServer => ({ readyReplicas: 1, observedGeneration: 2, generation: 2, inputHash: 'h', templateHash: 't1', ...m });
const notReadySts = (m: Partial<ObservedServer> = {}): ObservedServer => readySts({ readyReplicas: 0, ...m });

const report = (state: string, m: Partial<ServerReport> = {}): ServerReport => ({
  state, partnerState: state === 'normal' ? 'normal' : null, leases: 1, lastContact: at(0), outstandingUpdates: 0, ...m,
});
const unreachable = (lastContact?: string): ServerReport => ({ state: 'unreachable', partnerState: null, ...(lastContact !== undefined ? { lastContact } : {}) });
const waitingGuard = (n: number) => ({ automaticPartnerDown: true, autoPartnerDown: { waitingForEvidence: true, unansweredClients: n, clientsNeeded: 1, safePeriodEndsAt: at(1) } });

interface Case {
  readonly name: string;
  readonly rel?: DhcpFailoverRelationship;
  readonly sts?: Record<string, ObservedServer>;
  /** undefined: nothing polled at all. */
  readonly reports?: Record<string, ServerReport>;
  readonly warnings?: string[];
  readonly held?: StatusInput['rolloutHeld'];
  readonly result?: RenderResult;
  /** "Status/Reason" for each condition; message patterns optional. */
  readonly ready: string; readonly progressing: string; readonly degraded: string;
  readonly messages?: { readonly ready?: RegExp; readonly progressing?: RegExp; readonly degraded?: RegExp };
}

const bothReady = { 'r-a': readySts(), 'r-b': readySts() };

const CASES: readonly Case[] = [
  { name: 'both ready and NORMAL → Ready', sts: bothReady, reports: { a: report('normal'), b: report('normal') },
    ready: 'True/ServersReady', progressing: 'False/UpToDate', degraded: 'False/AsExpected' },
  { name: 'both NORMAL but a pod not ready with the current config → not Ready, rolling out', sts: { 'r-a': readySts(), 'r-b': readySts({ inputHash: 'old' }) }, reports: { a: report('normal'), b: report('normal') },
    ready: 'False/ServersNotReady', progressing: 'True/RollingOut', degraded: 'False/AsExpected', messages: { ready: /waiting for b to be ready/ } },
  { name: 'one COMMUNICATIONS-INTERRUPTED (split link, both reachable) → Degraded CommunicationsInterrupted naming both', sts: bothReady,
    reports: { a: report('communications-interrupted'), b: report('communications-interrupted') },
    ready: 'False/CommunicationsInterrupted', progressing: 'False/UpToDate', degraded: 'True/CommunicationsInterrupted',
    messages: { degraded: /^a: communications-interrupted \(b not connected\); b: communications-interrupted \(a not connected\)$/ } },
  { name: 'COMM-INT with automatic partner-down waiting for evidence says so', sts: bothReady,
    reports: { a: report('communications-interrupted', waitingGuard(3)), b: report('normal', { partnerState: 'communications-interrupted' }) },
    ready: 'False/CommunicationsInterrupted', progressing: 'False/UpToDate', degraded: 'True/CommunicationsInterrupted',
    messages: { degraded: /a: communications-interrupted \(b not connected\); automatic partner-down waiting for evidence: 3 unanswered partner clients \(needs 1\)/ } },
  { name: 'COMM-INT within the safe period names when automatic partner-down becomes possible', sts: bothReady,
    reports: { a: report('communications-interrupted', { automaticPartnerDown: true, autoPartnerDown: { waitingForEvidence: false, unansweredClients: 0, clientsNeeded: 1, safePeriodEndsAt: at(5) } }), b: unreachable(at(0)) },
    ready: 'False/ServerUnreachable', progressing: 'False/UpToDate', degraded: 'True/ServerUnreachable',
    messages: { degraded: new RegExp(`b: /status unreachable \\(last contact ${at(0)}\\); a: communications-interrupted \\(b not connected\\); automatic partner-down possible after ${at(5)} once 1 partner client goes unanswered \\(0 so far\\)`) } },
  { name: 'COMM-INT without a switchover interval: only an administrator declares partner-down', sts: bothReady,
    reports: { a: report('communications-interrupted', { automaticPartnerDown: false }), b: report('communications-interrupted', { automaticPartnerDown: false }) },
    ready: 'False/CommunicationsInterrupted', progressing: 'False/UpToDate', degraded: 'True/CommunicationsInterrupted',
    messages: { degraded: /a: communications-interrupted \(b not connected\); partner-down only by an administrator \(no stateSwitchoverSeconds\)/ } },
  { name: 'PARTNER-DOWN while the partner recovers → Degraded PartnerDown, Progressing Recovering', sts: bothReady,
    reports: { a: report('partner-down', { partnerState: 'recover-wait' }), b: report('recover-wait', { partnerState: 'partner-down' }) },
    ready: 'False/PartnerDown', progressing: 'True/Recovering', degraded: 'True/PartnerDown',
    messages: { degraded: /^a: partner-down, serving b's clients alone \(b recover-wait\); b: recover-wait \(a partner-down\)$/, progressing: /b: recover-wait/ } },
  { name: 'a ready pod whose /status fails → ServerUnreachable, worst of all server problems', sts: bothReady,
    reports: { a: report('partner-down'), b: unreachable(at(0)) },
    ready: 'False/ServerUnreachable', progressing: 'False/UpToDate', degraded: 'True/ServerUnreachable', messages: { degraded: /^b: \/status unreachable.*; a: partner-down/ } },
  { name: 'a /status that refuses the operator\'s token (401) → ServerUnreachable, even while the pod is not ready', sts: { 'r-a': readySts(), 'r-b': notReadySts({ currentRevision: 'r1', updateRevision: 'r2' }) },
    reports: { a: report('normal'), b: { state: 'unauthorized', partnerState: null } },
    ready: 'False/ServerUnreachable', progressing: 'True/RollingOut', degraded: 'True/ServerUnreachable', messages: { degraded: /^b: \/status refused the operator's token \(401\)$/ } },
  { name: 'a crashed pod that ran with the current template (not rolling) → ServerUnreachable', sts: { 'r-a': readySts(), 'r-b': notReadySts() },
    reports: { a: report('communications-interrupted'), b: unreachable(at(0)) },
    ready: 'False/ServerUnreachable', progressing: 'True/RollingOut', degraded: 'True/ServerUnreachable' },
  { name: 'a pod being replaced by a new template: not unreachable, its partner COMM-INT is still degraded', sts: { 'r-a': readySts(), 'r-b': notReadySts({ currentRevision: 'r1', updateRevision: 'r2' }) },
    reports: { a: report('communications-interrupted'), b: unreachable(at(0)) },
    ready: 'False/CommunicationsInterrupted', progressing: 'True/RollingOut', degraded: 'True/CommunicationsInterrupted', messages: { progressing: /rolling out b/ } },
  { name: 'first start: pods not ready, never reached → not Degraded, rolling out', sts: { 'r-a': notReadySts(), 'r-b': notReadySts() },
    reports: { a: unreachable(), b: unreachable() },
    ready: 'False/ServersNotReady', progressing: 'True/RollingOut', degraded: 'False/AsExpected' },
  { name: 'RECOVER-DONE on both → Degraded and Progressing Recovering', sts: bothReady,
    reports: { a: report('recover-done', { partnerState: 'recover-done' }), b: report('recover-done', { partnerState: 'recover-done' }) },
    ready: 'False/Recovering', progressing: 'True/Recovering', degraded: 'True/Recovering' },
  { name: 'STARTUP and POTENTIAL-CONFLICT are recovering too', sts: bothReady,
    reports: { a: report('startup'), b: report('potential-conflict', { partnerState: 'potential-conflict' }) },
    ready: 'False/Recovering', progressing: 'True/Recovering', degraded: 'True/Recovering', messages: { degraded: /a: startup .*; b: potential-conflict/ } },
  { name: `NORMAL with more than ${UNACKED_UPDATES_THRESHOLD} unacked updates → Degraded UnackedUpdates, still Ready`, sts: bothReady,
    reports: { a: report('normal', { outstandingUpdates: UNACKED_UPDATES_THRESHOLD + 1 }), b: report('normal') },
    ready: 'True/ServersReady', progressing: 'False/UpToDate', degraded: 'True/UnackedUpdates',
    messages: { degraded: new RegExp(`^a: normal with ${UNACKED_UPDATES_THRESHOLD + 1} binding updates not acked by b`) } },
  { name: `exactly ${UNACKED_UPDATES_THRESHOLD} unacked updates is not yet degraded`, sts: bothReady,
    reports: { a: report('normal', { outstandingUpdates: UNACKED_UPDATES_THRESHOLD }), b: report('normal') },
    ready: 'True/ServersReady', progressing: 'False/UpToDate', degraded: 'False/AsExpected' },
  { name: 'a template being rolled (ready pod, old template) → Progressing RollingOut', sts: { 'r-a': readySts(), 'r-b': readySts({ templateHash: 't0' }) },
    reports: { a: report('normal'), b: report('normal') },
    ready: 'True/ServersReady', progressing: 'True/RollingOut', degraded: 'False/AsExpected' },
  { name: 'a restart held by the rollout plan → Progressing RolloutHeld with what it waits for', sts: { 'r-a': readySts({ inputHash: 'old', templateHash: 't0' }), 'r-b': readySts() },
    reports: { a: report('normal'), b: report('recover-done') }, held: [{ server: 'a', waitingFor: 'b to be ready and NORMAL after its restart' }],
    ready: 'False/Recovering', progressing: 'True/RolloutHeld', degraded: 'True/Recovering', messages: { progressing: /^the restart of a waits for b to be ready and NORMAL/ } },
  { name: 'PAUSED / SHUTDOWN → ServerStopping; an unknown state → UnexpectedState', sts: bothReady,
    reports: { a: report('shutdown'), b: report('standalone') },
    ready: 'False/ServerStopping', progressing: 'False/UpToDate', degraded: 'True/ServerStopping', messages: { degraded: /^a: shutdown; b: standalone$/ } },
  { name: 'ready pods, nothing polled → Ready False StateUnknown, not Degraded', sts: bothReady,
    ready: 'False/StateUnknown', progressing: 'False/UpToDate', degraded: 'False/AsExpected', messages: { ready: /a, b: failover state not reported yet/ } },
  { name: 'API warning outranks the servers\' problems and is named with them', sts: { 'r-a': notReadySts(), 'r-b': notReadySts() }, warnings: ['would violate PodSecurity'],
    reports: { a: report('communications-interrupted'), b: unreachable() },
    ready: 'False/ApiWarning', progressing: 'True/RollingOut', degraded: 'True/ApiWarning', messages: { degraded: /would violate PodSecurity; a: communications-interrupted/ } },
  { name: 'API warning with both ready and NORMAL: Ready (as before), Degraded ApiWarning', sts: bothReady, warnings: ['w'], reports: { a: report('normal'), b: report('normal') },
    ready: 'True/ServersReady', progressing: 'False/UpToDate', degraded: 'True/ApiWarning' },
  { name: 'external partner: the one managed server NORMAL → Ready', rel: withExternal, sts: { 'r-a': readySts() }, reports: { a: report('normal') },
    ready: 'True/ServersReady', progressing: 'False/UpToDate', degraded: 'False/AsExpected' },
  { name: 'external partner: the managed server COMM-INT names the external partner', rel: withExternal, sts: { 'r-a': readySts() }, reports: { a: report('communications-interrupted') },
    ready: 'False/CommunicationsInterrupted', progressing: 'False/UpToDate', degraded: 'True/CommunicationsInterrupted', messages: { degraded: /^a: communications-interrupted \(isc not connected\)$/ } },
  { name: 'invalid input keeps its own reasons', result: { ok: false, problems: [{ reason: 'SecretMissing', message: 'Secret s is missing' }], inputHash: 'h', scopes: [] } as unknown as RenderResult,
    sts: bothReady, reports: { a: report('normal'), b: report('normal') },
    ready: 'False/SecretMissing', progressing: 'False/Blocked', degraded: 'True/SecretMissing' },
];

function run(c: Pick<Case, 'rel' | 'sts' | 'reports' | 'warnings' | 'held' | 'result'>, now = at(1), status?: RelationshipStatus): RelationshipStatus {
  const rel = c.rel ?? pair;
  return computeRelationshipStatus({
    relationship: status !== undefined ? { ...rel, status } : rel, result: c.result ?? okResult,
    statefulSets: new Map(Object.entries(c.sts ?? {})), now,
    ...(c.reports !== undefined ? { reports: new Map(Object.entries(c.reports)) } : {}),
    ...(c.warnings !== undefined ? { warnings: c.warnings } : {}),
    ...(c.held !== undefined ? { rolloutHeld: c.held } : {}),
  });
}

describe('conditions from readiness and the servers\' failover state', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const s = run(c);
      const got = (type: string) => { const x = findCondition(s, type); return `${x?.status}/${x?.reason}`; };
      assert.deepEqual({ ready: got('Ready'), progressing: got('Progressing'), degraded: got('Degraded') }, { ready: c.ready, progressing: c.progressing, degraded: c.degraded });
      for (const [key, re] of Object.entries(c.messages ?? {})) {
        const type = key[0]!.toUpperCase() + key.slice(1);
        assert.match(findCondition(s, type)!.message, re, `${type} message`);
      }
      for (const x of s.conditions ?? []) assert.equal(x.observedGeneration, 3);
    });
  }
});

describe('lastSuccessfulSync: both NORMAL and nothing unacked', () => {
  const normal = (m: Partial<ServerReport> = {}) => ({ a: report('normal', m), b: report('normal') });

  it('moves only while both are NORMAL with no unacked updates', () => {
    const steps: { now: string; reports: Record<string, ServerReport>; expect: string | undefined }[] = [
      { now: at(0), reports: normal({ outstandingUpdates: 3 }), expect: undefined },
      { now: at(1), reports: normal(), expect: at(1) },
      { now: at(10), reports: normal({ outstandingUpdates: 1 }), expect: at(1) },          // past the heartbeat, but not in sync
      { now: at(11), reports: { a: report('communications-interrupted'), b: unreachable(at(10)) }, expect: at(1) },
      { now: at(12), reports: normal({ outstandingUpdates: undefined }), expect: at(1) },  // not reported: not proven in sync
      { now: at(13), reports: { a: report('normal', { partnerState: 'recover-done' }), b: report('recover-done') }, expect: at(1) },
      { now: at(14), reports: normal(), expect: at(14) },                                  // newly in sync: at once
      { now: at(15), reports: normal(), expect: at(14) },                                  // within the heartbeat: kept
      { now: at(14 + STATUS_HEARTBEAT_MS / 60_000), reports: normal(), expect: at(14 + STATUS_HEARTBEAT_MS / 60_000) },
    ];
    let status: RelationshipStatus | undefined;
    for (const [i, step] of steps.entries()) {
      status = run({ sts: bothReady, reports: step.reports }, step.now, status);
      assert.equal(status.lastSuccessfulSync, step.expect, `step ${i} at ${step.now}`);
    }
  });

  it('after unacked updates in NORMAL (Degraded UnackedUpdates), a clean poll stamps at once', () => {
    const first = run({ sts: bothReady, reports: normal() }, at(0));
    const backlog = run({ sts: bothReady, reports: normal({ outstandingUpdates: UNACKED_UPDATES_THRESHOLD + 5 }) }, at(1), first);
    assert.equal(findCondition(backlog, 'Degraded')?.reason, 'UnackedUpdates');
    assert.equal(backlog.lastSuccessfulSync, at(0));
    assert.equal(run({ sts: bothReady, reports: normal() }, at(2), backlog).lastSuccessfulSync, at(2));
  });

  it('an external partner: the managed server NORMAL with a NORMAL partner and nothing unacked', () => {
    assert.equal(run({ rel: withExternal, sts: { 'r-a': readySts() }, reports: { a: report('normal') } }, at(3)).lastSuccessfulSync, at(3));
    assert.equal(run({ rel: withExternal, sts: { 'r-a': readySts() }, reports: { a: report('normal', { outstandingUpdates: 2 }) } }, at(3)).lastSuccessfulSync, undefined);
  });
});

describe('status writes only on change', () => {
  it('a steady degraded pair computes the same status (no write); transitions keep lastTransitionTime while the status holds', () => {
    const c = { sts: bothReady, reports: { a: report('communications-interrupted', waitingGuard(0)), b: unreachable(at(0)) } };
    const first = run(c, at(1));
    assert.deepEqual(run(c, at(2), first), first);
    const worse = run({ ...c, reports: { a: report('partner-down'), b: unreachable(at(0)) } }, at(3), first);
    assert.equal(findCondition(worse, 'Degraded')?.lastTransitionTime, at(1), 'still Degraded: the transition time stays');
    const healed = run({ sts: bothReady, reports: { a: report('normal'), b: report('normal') } }, at(4), worse);
    assert.equal(findCondition(healed, 'Degraded')?.status, 'False');
    assert.equal(findCondition(healed, 'Degraded')?.lastTransitionTime, at(4));
    assert.equal(findCondition(healed, 'Ready')?.lastTransitionTime, at(4));
  });
});
