// Polling waits for tests that watch in-process state.
export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

/** Resolves once `test()` is true; throws after `ms`. */
export async function until(what: string, test: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  for (let i = 0; !test(); i++) {
    if (Date.now() > end || i > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}
