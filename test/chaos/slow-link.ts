// The chaos harness's "delay failover traffic" fault. This kernel has no netem (nor prio, fq or the fw
// classifier), so there is no fixed added latency. What it does have is htb and the u32 classifier: TCP
// port 647 leaving a node's eth0 goes to an htb class with a low rate and a short queue, so the
// failover stream waits in the queue (delay grows with the traffic) and overflows are dropped; DHCP and
// everything else keep the full rate. The delay it caused is measured from the servers' own
// BNDUPD→BNDACK histogram (dhcp_failover_update_ack_seconds), scraped before and after.
import type { Lab } from '../fakes/netns-lab.ts';

const DEV = 'eth0';
const QUEUE_PACKETS = 50;

/** Rate-limits the node's outgoing failover traffic (both directions of port 647) to `kbit` kbit/s. */
export async function slowFailoverLink(lab: Lab, node: string, kbit: number): Promise<void> {
  const tc = (...args: string[]) => lab.exec(node, 'tc', args);
  await tc('qdisc', 'add', 'dev', DEV, 'root', 'handle', '1:', 'htb', 'default', '10');
  await tc('class', 'add', 'dev', DEV, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit');
  await tc('class', 'add', 'dev', DEV, 'parent', '1:', 'classid', '1:20', 'htb', 'rate', `${kbit}kbit`, 'ceil', `${kbit}kbit`);
  await tc('qdisc', 'add', 'dev', DEV, 'parent', '1:20', 'handle', '20:', 'pfifo', 'limit', String(QUEUE_PACKETS));
  for (const field of ['sport', 'dport']) {
    await tc('filter', 'add', 'dev', DEV, 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', field, '647', '0xffff', 'flowid', '1:20');
  }
}

/** Removes the limit; returns what the slow class sent and dropped (from `tc -s`), for the fault log. */
export async function restoreFailoverLink(lab: Lab, node: string): Promise<{ packets: number; dropped: number }> {
  const stats = await lab.exec(node, 'tc', ['-s', 'class', 'show', 'dev', DEV, 'classid', '1:20'], { allowFail: true });
  await lab.exec(node, 'tc', ['qdisc', 'del', 'dev', DEV, 'root'], { allowFail: true });
  const m = /Sent \d+ bytes (\d+) pkt \(dropped (\d+)/.exec(stats.stdout);
  return { packets: Number(m?.[1] ?? 0), dropped: Number(m?.[2] ?? 0) };
}

/** Cumulative bucket counts (le → count, +Inf included) of one histogram in Prometheus text, summed over labels. */
export function histogramBuckets(metricsText: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm');
  for (const m of metricsText.matchAll(re)) {
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    out.set(le, (out.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

/**
 * Observations between two scrapes: their count and the bucket bound under which quantile q of them
 * fell (an upper bound, as Prometheus buckets give; Infinity past the last bucket).
 */
export function quantileBetween(before: Map<number, number>, after: Map<number, number>, q: number): { count: number; atMost: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const count = bounds.length === 0 ? 0 : delta(Infinity);
  if (count <= 0) return { count: 0, atMost: 0 };
  const bound = bounds.find((le) => delta(le) >= q * count);
  return { count, atMost: bound ?? Infinity };
}
