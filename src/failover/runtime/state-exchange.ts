// STATE messages (digest §3, D12 §9.2) between the state machine's terms and the wire's: our own report
// (ownReport, with the STARTUP flag while we are in STARTUP) and the partner's, which must name a state
// a partner may be in. Pure.
import { ownReport, type PartnerReport, type Snapshot } from '../protocol/state-machine.ts';
import type { State } from '../wire/message.ts';
import { SERVER_FLAGS, serverStateFromWire, serverStateToWire } from '../wire/options.ts';

/** The STATE message that reports our snapshot. */
export function stateMessageOf(s: Snapshot): Omit<State, 'xid' | 'time' | 'skipped'> {
  const rep = ownReport(s);
  return { type: 'STATE', serverState: serverStateToWire(rep.state), serverFlags: rep.startup ? SERVER_FLAGS.STARTUP : 0, startTimeOfState: Math.floor(rep.stos / 1000) };
}

/** The partner's report in a STATE message; undefined for an unknown code or STARTUP (which is a flag, never a state). */
export function partnerReportOf(m: State): PartnerReport | undefined {
  const name = serverStateFromWire(m.serverState);
  if (name === undefined || name === 'startup') return undefined;
  const flags = m.serverFlags ?? 0;
  return { state: name, stos: (m.startTimeOfState ?? 0) * 1000, startup: (flags & SERVER_FLAGS.STARTUP) !== 0 };
}
