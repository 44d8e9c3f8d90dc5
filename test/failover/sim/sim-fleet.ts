// The chaos fleet (test/chaos/fleet.ts + test/fakes/relay-client.ts) on the Sim's fake clock: each
// client acquires (DISCOVER retransmitted every second with a growing secs, first OFFER, REQUEST to
// both servers), renews at T1 with fuzz (REQUEST with ciaddr to both, first ACK or NAK wins, 4 s
// timeout), keeps its lease until it expires when nobody answers, then starts over. Every ACK, NAK
// and expiry is recorded in the chaos checker's event format.
import type { Decision } from '../../../src/dhcp/reply.ts';
import { MessageType } from '../../../src/dhcp/wire/message.ts';
import { formatIpv4, parseIpv4, type Ipv4 } from '../../../src/net/ipv4.ts';
import { makeRequest } from '../../fakes/dhcp-builders.ts';
import { macOf } from '../../fakes/relay-client.ts';
import type { Sim, SimServer } from './sim-pair.ts';

export type SimEvent =
  | { readonly type: 'ack'; readonly t: number; readonly until: number; readonly mac: string; readonly ip: string; readonly server: string; readonly renewal: boolean }
  | { readonly type: 'expired'; readonly t: number; readonly mac: string; readonly ip: string }
  | { readonly type: 'nak'; readonly t: number; readonly mac: string; readonly ip: string; readonly server?: string }
  | { readonly type: 'attempt'; readonly t: number; readonly mac: string; readonly ok: boolean; readonly ms: number; readonly renewal: boolean };

interface Client {
  readonly mac: string;
  ip?: string;
  expiresAt: number;
  renewAt: number;
  busy: boolean;
}

const GIADDR = parseIpv4('10.100.0.1');

export class SimFleet {
  readonly events: SimEvent[] = [];
  readonly clients: Client[];
  private readonly sim: Sim;
  private readonly rnd: () => number;
  private xid = 1;
  stopped = false;
  /** Per client and second: the chance it forgets its lease and starts over (a reboot; churn for the partner-down guard). */
  churnPerSecond = 0;

  constructor(sim: Sim, o: { clients: number; tag?: number; rnd?: () => number }) {
    this.sim = sim;
    this.rnd = o.rnd ?? Math.random;
    this.clients = Array.from({ length: o.clients }, (_, i) => ({ mac: macOf(o.tag ?? 200, i), expiresAt: 0, renewAt: 0, busy: false }));
  }

  private get now(): number { return this.sim.clock.now(); }

  /** One fleet tick: start exchanges for idle clients that are due. */
  tick(): void {
    if (this.stopped) return;
    const now = this.now;
    for (const c of this.clients) {
      if (!c.busy && c.ip !== undefined && this.churnPerSecond > 0 && this.rnd() < this.churnPerSecond * (this.sim.stepMs / 1000)) {
        this.events.push({ type: 'expired', t: now, mac: c.mac, ip: c.ip });
        delete c.ip;
        c.renewAt = now;
      }
      if (c.busy || now < c.renewAt) continue;
      if (c.ip !== undefined && now >= c.expiresAt) { this.events.push({ type: 'expired', t: now, mac: c.mac, ip: c.ip }); delete c.ip; }
      c.busy = true;
      if (c.ip !== undefined) this.renew(c);
      else this.acquire(c);
    }
  }

  private send(msg: ReturnType<typeof makeRequest>, onReply: (d: Decision, from: SimServer) => void): void {
    for (const s of this.sim.servers) {
      const p = s.handle({ ...msg, chaddr: Buffer.from(msg.chaddr), options: new Map(msg.options) });
      if (p === undefined) continue;
      p.then((d) => onReply(d, s), () => undefined);
    }
  }

  private acquire(c: Client): void {
    const xid = this.xid++;
    const started = this.now;
    const secs = (): number => Math.floor((this.now - started) / 1000);
    let phase: 'discover' | 'request' | 'done' = 'discover';
    let request: ReturnType<typeof makeRequest> | undefined;
    let requestedAt = 0;
    let offerFrom: Ipv4 = 0;
    const timers: { cancel(): void }[] = [];
    const finish = (ok: boolean): void => {
      if (phase === 'done') return;
      phase = 'done';
      for (const t of timers) t.cancel();
      c.busy = false;
      this.events.push({ type: 'attempt', t: this.now, mac: c.mac, ok, ms: this.now - started, renewal: false });
      if (!ok) c.renewAt = this.now + 1000;
    };
    const onReply = (d: Decision, from: SimServer): void => {
      if (d.kind !== 'reply' || phase === 'done') return;
      const type = d.reply.options.get(53)?.[0];
      if (phase === 'discover' && type === MessageType.OFFER) {
        phase = 'request';
        offerFrom = d.reply.options.get(54)!.readUInt32BE(0);
        request = { ...makeRequest({ type: MessageType.REQUEST, mac: c.mac, xid, giaddr: GIADDR, requested: d.reply.yiaddr, serverId: offerFrom }), secs: secs() };
        requestedAt = this.now;
        this.send(request, onReply);
        const resend = (): void => { timers.push(this.sim.clock.setTimer(1000, () => { if (phase === 'request') { this.send(request!, onReply); resend(); } })); };
        resend();
        return;
      }
      if (phase === 'request' && type === MessageType.ACK) {
        const lease = d.reply.options.get(51)!.readUInt32BE(0);
        const ip = formatIpv4(d.reply.yiaddr);
        if (c.ip !== undefined && c.ip !== ip) this.events.push({ type: 'expired', t: this.now, mac: c.mac, ip: c.ip });
        c.ip = ip;
        c.expiresAt = requestedAt + lease * 1000;
        c.renewAt = requestedAt + lease * 1000 * (0.375 + this.rnd() * 0.25);
        this.events.push({ type: 'ack', t: this.now, until: c.expiresAt, mac: c.mac, ip, server: from.name, renewal: false });
        finish(true);
      }
    };
    const discover = (): void => {
      if (phase !== 'discover') return;
      this.send({ ...makeRequest({ type: MessageType.DISCOVER, mac: c.mac, xid, giaddr: GIADDR }), secs: secs() }, onReply);
      timers.push(this.sim.clock.setTimer(1000, discover));
    };
    discover();
    timers.push(this.sim.clock.setTimer(10_000, () => finish(false)));
  }

  private renew(c: Client): void {
    const xid = this.xid++;
    const started = this.now;
    const ip = c.ip!;
    let done = false;
    const timers: { cancel(): void }[] = [];
    const msg = makeRequest({ type: MessageType.REQUEST, mac: c.mac, xid, giaddr: GIADDR, ciaddr: parseIpv4(ip) });
    const finish = (): void => { done = true; for (const t of timers) t.cancel(); c.busy = false; };
    const onReply = (d: Decision, from: SimServer): void => {
      if (done || d.kind !== 'reply') return;
      const type = d.reply.options.get(53)?.[0];
      if (type === MessageType.NAK) {
        this.events.push({ type: 'nak', t: this.now, mac: c.mac, ip, server: from.name });
        this.events.push({ type: 'attempt', t: this.now, mac: c.mac, ok: false, ms: this.now - started, renewal: true });
        delete c.ip;
        c.renewAt = this.now;
        finish();
        return;
      }
      if (type !== MessageType.ACK) return;
      const lease = d.reply.options.get(51)!.readUInt32BE(0);
      c.expiresAt = started + lease * 1000;
      c.renewAt = started + lease * 1000 * (0.375 + this.rnd() * 0.25);
      this.events.push({ type: 'attempt', t: this.now, mac: c.mac, ok: true, ms: this.now - started, renewal: true });
      this.events.push({ type: 'ack', t: this.now, until: c.expiresAt, mac: c.mac, ip: formatIpv4(d.reply.yiaddr), server: from.name, renewal: true });
      finish();
    };
    this.send(msg, onReply);
    const resend = (): void => {
      timers.push(this.sim.clock.setTimer(1000, () => {
        if (done) return;
        this.send({ ...msg, secs: Math.floor((this.now - started) / 1000) }, onReply);
        resend();
      }));
    };
    resend();
    timers.push(this.sim.clock.setTimer(4000, () => {
      if (done) return;
      this.events.push({ type: 'attempt', t: this.now, mac: c.mac, ok: false, ms: this.now - started, renewal: true });
      c.renewAt = this.now + 1000;
      finish();
    }));
  }
}
