// A fleet of simulated DHCP clients behind one relay address, for the chaos harness: each client gets
// a lease, renews it at T1 with fuzz (REQUEST with ciaddr, retried; never load-balanced), keeps using it until it
// expires if nobody answers, then starts over with DISCOVER. Every ACK, NAK, expiry and attempt is
// written as one JSON line, so the checker can rebuild who held which address when.
//   node test/chaos/fleet.ts --relay 10.100.0.1 --targets 10.99.0.2,10.99.0.3 --clients 1000 --seconds 120 --out events.jsonl
// Runs inside the perf namespace (ip netns exec). Bounded: --seconds, and at most --concurrency exchanges in flight.
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { macOf, RelayClient } from '../fakes/relay-client.ts';

export type FleetEvent =
  /** The client uses `ip` from `t` (the ACK's arrival) until `until` (request time + lease, RFC 2131 §4.4.1). */
  | { readonly type: 'ack'; readonly t: number; readonly until: number; readonly mac: string; readonly ip: string; readonly server: string; readonly renewal: boolean }
  | { readonly type: 'expired'; readonly t: number; readonly mac: string; readonly ip: string }
  | { readonly type: 'nak'; readonly t: number; readonly mac: string; readonly ip: string }
  | { readonly type: 'attempt'; readonly t: number; readonly mac: string; readonly ok: boolean; readonly ms: number; readonly renewal: boolean }
  | { readonly type: 'holding'; readonly t: number; readonly mac: string; readonly ip: string; readonly expiresAt: number };

interface Client { readonly mac: string; ip?: string; expiresAt: number; renewAt: number; busy: boolean }

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    relay: { type: 'string' }, targets: { type: 'string' }, clients: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '60' },
    out: { type: 'string' }, concurrency: { type: 'string', default: '100' }, tag: { type: 'string', default: '200' },
  } });
  if (!values.relay || !values.targets || !values.out) { process.stderr.write('usage: fleet.ts --relay A --targets A,B --out FILE [--clients N] [--seconds S]\n'); process.exit(2); }
  const out = createWriteStream(values.out, { flags: 'a' });
  const emit = (e: FleetEvent) => out.write(JSON.stringify(e) + '\n');
  const relay = new RelayClient({ relayAddress: values.relay, targets: values.targets.split(',') });
  await relay.open();
  const deadline = Date.now() + Number(values.seconds) * 1000;
  const clients: Client[] = Array.from({ length: Number(values.clients) }, (_, i) => ({ mac: macOf(Number(values.tag), i), expiresAt: 0, renewAt: 0, busy: false }));
  const maxInFlight = Number(values.concurrency);
  let inFlight = 0;
  let stopping = false;
  process.once('SIGTERM', () => { stopping = true; });

  const step = async (c: Client): Promise<void> => {
    const now = Date.now();
    if (c.ip !== undefined && now >= c.expiresAt) { emit({ type: 'expired', t: now, mac: c.mac, ip: c.ip }); delete c.ip; }
    const renewal = c.ip !== undefined;
    const started = Date.now();
    const res = renewal ? await relay.renew(c.mac, c.ip!, { timeoutMs: 4000 }) : await relay.acquire(c.mac, { timeoutMs: 10_000 });
    const t = Date.now();
    if (res === 'nak') {
      emit({ type: 'nak', t, mac: c.mac, ip: c.ip! });
      emit({ type: 'attempt', t, mac: c.mac, ok: false, ms: t - started, renewal });
      delete c.ip; // a NAK ends the binding at once (RFC 2131 §4.4.2): back to INIT
      c.renewAt = t;
      return;
    }
    emit({ type: 'attempt', t, mac: c.mac, ok: res !== undefined, ms: t - started, renewal });
    if (res === undefined) { c.renewAt = t + 1000; return; } // retry soon; the lease still runs until expiresAt
    if (c.ip !== undefined && res.ip !== c.ip) emit({ type: 'expired', t, mac: c.mac, ip: c.ip }); // moved: the old one is let go
    c.ip = res.ip;
    // The client's lease runs from when it SENT the request (RFC 2131 §4.4.1: the conservative start).
    const requestSentAt = res.requestedAt;
    c.expiresAt = requestSentAt + res.leaseSeconds * 1000;
    // T1 with fuzz (RFC 2131 §4.4.5: "to avoid synchronization of client reacquisition"): 37.5–62.5 % of the lease,
    // so renewals, and the binding updates they cause, spread out instead of arriving in one burst per T1.
    c.renewAt = requestSentAt + res.leaseSeconds * 1000 * (0.375 + Math.random() * 0.25);
    emit({ type: 'ack', t, until: c.expiresAt, mac: c.mac, ip: res.ip, server: res.server, renewal });
  };

  while (Date.now() < deadline && !stopping) {
    const now = Date.now();
    for (const c of clients) {
      if (inFlight >= maxInFlight) break;
      if (c.busy || now < c.renewAt) continue;
      c.busy = true;
      inFlight++;
      void step(c).catch(() => undefined).finally(() => { c.busy = false; inFlight--; });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  for (let i = 0; inFlight > 0 && i < 300; i++) await new Promise((r) => setTimeout(r, 50));
  relay.close();
  // What each client holds at the end, for the lost-lease check.
  for (const c of clients) if (c.ip !== undefined && c.expiresAt > Date.now()) out.write(JSON.stringify({ type: 'holding', t: Date.now(), mac: c.mac, ip: c.ip, expiresAt: c.expiresAt }) + '\n');
  await new Promise<void>((r) => out.end(() => r()));
}

await main();
