// On-demand chaos run (issue 6): node_modules/.bin/node scripts/chaos.ts [--minutes 10] [--clients 1000] [--seed N] [--kinds cut,kill,...]
// Prints the seed, every fault with its time, and the verdict; exits 1 on any violation. Root, Linux,
// redis-server and libfaketime (scripts/install.sh). Replay a failure with the printed --seed.
import { parseArgs } from 'node:util';
import { FAULT_KINDS, runChaos, type FaultKind } from '../test/chaos/run.ts';

const { values } = parseArgs({ options: {
  minutes: { type: 'string', default: '10' }, clients: { type: 'string', default: '1000' },
  seed: { type: 'string' }, kinds: { type: 'string' },
} });
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const kinds = (values.kinds?.split(',') ?? [...FAULT_KINDS]) as FaultKind[];
process.stdout.write(`chaos: seed ${seed}, ${values.clients} clients, ${values.minutes} min of faults (${kinds.join(', ')})\n`);
const r = await runChaos({ seed, faultMs: Number(values.minutes) * 60_000, clients: Number(values.clients), prefix: `c${process.pid % 1000}x`, kinds, log: (l) => process.stdout.write(`  ${l}\n`) });
const violations = r.duplicates.length + r.storeConflicts.length + r.lostLeases.length + (r.converged ? 0 : 1) + (r.bothNormalAtEnd ? 0 : 1);
process.stdout.write([
  `seed ${r.seed}; clients ${r.clients}; ${r.minutes.toFixed(1)} min; faults ${r.faults.filter((f) => !f.includes('healed') && !f.includes('NORMAL')).length}`,
  `acks ${r.acks}; attempts ${r.attempts} (${r.failedAttempts} failed, ${r.unserved} while a server was serving throughout)`,
  `duplicates ${r.duplicates.length}; store conflicts ${r.storeConflicts.length}; lost acknowledged leases ${r.lostLeases.length}; stores converged ${r.converged} (${r.convergenceDiff}); both NORMAL at the end ${r.bothNormalAtEnd}`,
  ...r.duplicates.slice(0, 10).map((d) => `  DUPLICATE ${d}`), ...r.storeConflicts.slice(0, 10).map((d) => `  CONFLICT ${d}`), ...r.lostLeases.slice(0, 10).map((d) => `  LOST ${d}`),
  `logs: ${r.labDir}`,
].join('\n') + '\n');
process.exit(violations > 0 ? 1 : 0);
