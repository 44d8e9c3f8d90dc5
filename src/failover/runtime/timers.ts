// Named one-shot timers on the injected Clock (one per name: starting a name again replaces it), and a
// bounded wait. The peer keeps its state-machine timers and the record refresh here.
import type { Clock } from '../../clock.ts';

export class NamedTimers<Name extends string> {
  private readonly clock: Clock;
  private readonly timers = new Map<Name, { cancel(): void }>();

  constructor(clock: Clock) { this.clock = clock; }

  start(name: Name, ms: number, fire: () => void): void {
    this.cancel(name);
    this.timers.set(name, this.clock.setTimer(ms, () => { this.timers.delete(name); fire(); }));
  }

  cancel(name: Name): void { this.timers.get(name)?.cancel(); this.timers.delete(name); }

  cancelAll(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }
}

/** Waits for `work`, but no longer than `ms`; a failure of `work` is passed on (the timer is cancelled either way). */
export async function waitAtMost(clock: Clock, ms: number, work: Promise<unknown>): Promise<void> {
  let t: { cancel(): void } | undefined;
  try {
    await Promise.race([work, new Promise<void>((r) => { t = clock.setTimer(ms, r); })]);
  } finally {
    t?.cancel();
  }
}
