// A Clock whose time moves only when the test says so; timers fire in due order on `advance`.
import type { Clock } from '../../src/clock.ts';

interface Pending { at: number; seq: number; fn: () => void; cancelled: boolean }

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Pending[] = [];
  constructor(start = Date.UTC(2026, 0, 1)) { this.t = start; }
  now(): number { return this.t; }
  setTimer(ms: number, fn: () => void): { cancel(): void } {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: ++this.seq, fn, cancelled: false };
    this.timers.push(p);
    return { cancel: () => { p.cancelled = true; } };
  }
  /** Moves time forward, firing every due timer in (time, creation) order; bounded. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let n = 0; n < 100_000; n++) {
      this.timers = this.timers.filter((p) => !p.cancelled);
      const due = this.timers.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }
  get pendingTimers(): number { return this.timers.filter((p) => !p.cancelled).length; }
}

/** The system clock shifted by `offsetMs` (clock-skew tests with real sockets). */
export function skewedClock(offsetMs: number): Clock {
  return {
    now: () => Date.now() + offsetMs,
    setTimer(ms, fn) { const t = setTimeout(fn, ms); t.unref(); return { cancel: () => clearTimeout(t) }; },
  };
}
