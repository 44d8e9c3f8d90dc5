// Time is injected: core code takes `now` (ms since epoch) as an argument; edges take a Clock.

export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): { cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
