// The peer's named one-shot timers and bounded wait (timers.ts) on a fake clock: one timer per name
// (starting a name again replaces it), cancel one or all, a fired name can be started again; and
// waitAtMost returns when the work is done or when the time is up, whichever comes first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NamedTimers, waitAtMost } from '../../../src/failover/runtime/timers.ts';
import { FakeClock } from '../../fakes/fake-clock.ts';

type Name = 'startup' | 'switchover';

function setup() {
  const clock = new FakeClock();
  const timers = new NamedTimers<Name>(clock);
  const fired: string[] = [];
  return { clock, timers, fired, fire: (label: string) => () => { fired.push(label); } };
}

describe('NamedTimers', () => {
  it('fires once, when due', () => {
    const { clock, timers, fired, fire } = setup();
    timers.start('startup', 1_000, fire('startup'));
    clock.advance(999);
    assert.deepEqual(fired, []);
    clock.advance(1);
    assert.deepEqual(fired, ['startup']);
    clock.advance(10_000);
    assert.deepEqual(fired, ['startup'], 'one-shot');
  });

  it('starting a name again replaces its timer: only the second fires, on its own time', () => {
    const { clock, timers, fired, fire } = setup();
    timers.start('startup', 1_000, fire('first'));
    clock.advance(500);
    timers.start('startup', 2_000, fire('second'));
    clock.advance(1_000); // the first would have fired here
    assert.deepEqual(fired, []);
    clock.advance(1_000);
    assert.deepEqual(fired, ['second']);
    assert.equal(clock.pendingTimers, 0);
  });

  it('names are independent', () => {
    const { clock, timers, fired, fire } = setup();
    timers.start('startup', 1_000, fire('startup'));
    timers.start('switchover', 2_000, fire('switchover'));
    timers.start('startup', 3_000, fire('startup again'));
    clock.advance(3_000);
    assert.deepEqual(fired, ['switchover', 'startup again']);
  });

  it('cancel stops one name only; cancelling what is not running is harmless', () => {
    const { clock, timers, fired, fire } = setup();
    timers.start('startup', 1_000, fire('startup'));
    timers.start('switchover', 1_000, fire('switchover'));
    timers.cancel('startup');
    timers.cancel('startup');
    clock.advance(1_000);
    assert.deepEqual(fired, ['switchover']);
    timers.cancel('switchover'); // already fired
    assert.equal(clock.pendingTimers, 0);
  });

  it('cancelAll stops every timer, and names can be started afterwards', () => {
    const { clock, timers, fired, fire } = setup();
    timers.start('startup', 1_000, fire('startup'));
    timers.start('switchover', 2_000, fire('switchover'));
    timers.cancelAll();
    clock.advance(5_000);
    assert.deepEqual(fired, []);
    timers.start('startup', 1_000, fire('after'));
    clock.advance(1_000);
    assert.deepEqual(fired, ['after']);
  });

  it('a fired name can be started again, also from its own callback', () => {
    const { clock, timers, fired } = setup();
    const tick = (): void => { fired.push(`tick@${clock.now()}`); if (fired.length < 3) timers.start('switchover', 1_000, tick); };
    const t0 = clock.now();
    timers.start('switchover', 1_000, tick);
    clock.advance(10_000);
    assert.deepEqual(fired, [`tick@${t0 + 1_000}`, `tick@${t0 + 2_000}`, `tick@${t0 + 3_000}`]);
    // A restart from the callback is a live timer: cancel must reach it.
    fired.length = 0;
    timers.start('switchover', 1_000, tick);
    clock.advance(1_000);
    timers.cancel('switchover');
    clock.advance(10_000);
    assert.equal(fired.length, 1, 'the timer restarted inside the callback was cancelled');
  });
});

describe('waitAtMost', () => {
  it('returns as soon as the work finishes, and leaves no timer behind', async () => {
    const clock = new FakeClock();
    let finish!: () => void;
    const work = new Promise<void>((r) => { finish = r; });
    let returned = false;
    const waiting = waitAtMost(clock, 1_000, work).then(() => { returned = true; });
    await Promise.resolve();
    assert.equal(returned, false, 'still waiting for the work');
    finish();
    await waiting;
    assert.equal(returned, true);
    assert.equal(clock.pendingTimers, 0, 'the time limit was cancelled');
  });

  it('returns when the time runs out, though the work never finishes', async () => {
    const clock = new FakeClock();
    let returned = false;
    const waiting = waitAtMost(clock, 1_000, new Promise<void>(() => {})).then(() => { returned = true; });
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    assert.equal(returned, false, 'not before the limit');
    clock.advance(1);
    await waiting;
    assert.equal(returned, true);
  });
});
