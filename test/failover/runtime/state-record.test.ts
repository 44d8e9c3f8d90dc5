// The failover state record on stable storage (state-record.ts, digest §4.3, D12 §9.2): one meta key per
// relationship; reading gives back what was written, treats a missing record as none and a damaged one
// as none (logged, never thrown: a server must still boot, into RECOVER); the record of a state carries
// its start time, the state to resume, the time of operation and the MCLT in whole seconds.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setLogSink } from '../../../src/log.ts';
import { metaKey, readStateRecord, stateRecordOf, writeStateRecord, type StateRecord } from '../../../src/failover/runtime/state-record.ts';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

/** The two LeaseStore methods the record uses, over a Map. */
function metaStore(entries: Record<string, string> = {}) {
  const meta = new Map(Object.entries(entries));
  return { meta, getMeta: async (k: string) => meta.get(k), setMeta: async (k: string, v: string) => { meta.set(k, v); } };
}

const logs: { level: string; event: string }[] = [];
setLogSink((line) => logs.push(JSON.parse(line) as { level: string; event: string }));
after(() => setLogSink((line) => process.stderr.write(line + '\n')));

describe('metaKey', () => {
  it('one key per relationship', () => {
    assert.equal(metaKey('a'), 'failover:a:state');
    assert.notEqual(metaKey('a'), metaKey('b'));
  });
});

describe('readStateRecord and writeStateRecord', () => {
  it('no record at all reads as undefined', async () => {
    assert.equal(await readStateRecord(metaStore(), 'pair'), undefined);
    assert.equal(await readStateRecord(metaStore({ [metaKey('other')]: '{"state":"normal","stos":1}' }), 'pair'), undefined, 'another relationship\'s record is not ours');
  });

  it('reads back what was written, under the relationship\'s key', async () => {
    const store = metaStore();
    const record: StateRecord = { state: 'partner-down', stos: NOW - 60_000, previous: 'communications-interrupted', lastOperationAt: NOW, mcltSeconds: 3600 };
    await writeStateRecord(store, 'pair', record);
    assert.deepEqual([...store.meta.keys()], [metaKey('pair')]);
    assert.deepEqual(await readStateRecord(store, 'pair'), record);
    const later: StateRecord = { state: 'normal', stos: NOW };
    await writeStateRecord(store, 'pair', later);
    assert.deepEqual(await readStateRecord(store, 'pair'), later, 'a new write replaces the old record');
  });

  it('a damaged record reads as none, with an error logged, and never throws', async () => {
    for (const raw of ['{"state":"normal","stos":17', 'not json', '']) {
      logs.length = 0;
      assert.equal(await readStateRecord(metaStore({ [metaKey('pair')]: raw }), 'pair'), undefined, JSON.stringify(raw));
      assert.deepEqual(logs.map((l) => [l.level, l.event]), [['error', 'failover.state.record_unreadable']], JSON.stringify(raw));
    }
  });

  it('valid JSON that is not a record reads as none (a damaged record, not a crash in boot)', async () => {
    for (const raw of ['null', '42', '[]', '{}', '{"state":"sleeping","stos":1}', '{"state":"normal","stos":"yesterday"}', '{"state":"normal","stos":1,"previous":7}']) {
      assert.equal(await readStateRecord(metaStore({ [metaKey('pair')]: raw }), 'pair'), undefined, raw);
    }
  });
});

describe('stateRecordOf', () => {
  it('records the state, its start time and the state to resume, stamped with now', () => {
    const r = stateRecordOf({ state: 'startup', stos: NOW - 5_000, previous: 'communications-interrupted', mcltMs: 3_600_000 }, NOW);
    assert.deepEqual(r, { state: 'startup', stos: NOW - 5_000, previous: 'communications-interrupted', lastOperationAt: NOW, mcltSeconds: 3600 });
  });

  it('MCLT in whole seconds, rounded to the nearest', () => {
    const mclt = (ms: number) => stateRecordOf({ state: 'normal', stos: NOW, mcltMs: ms }, NOW).mcltSeconds;
    assert.deepEqual([mclt(60_000), mclt(60_400), mclt(60_500), mclt(59_501)], [60, 60, 61, 60]);
  });

  it('survives the store: what it makes is what a later boot reads', async () => {
    const store = metaStore();
    const r = stateRecordOf({ state: 'recover', stos: NOW - 1, mcltMs: 600_000 }, NOW);
    await writeStateRecord(store, 'pair', r);
    const back = await readStateRecord(store, 'pair');
    assert.equal(back?.state, 'recover');
    assert.equal(back?.lastOperationAt, NOW);
    assert.equal(back?.mcltSeconds, 600);
    assert.equal(back?.previous, undefined);
  });
});
