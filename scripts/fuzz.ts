// On-demand fuzzing: the properties of test/fuzz/*.props.ts (the same ones the CI-sized tests run),
// with a large budget. Usage:
//   node_modules/.bin/node scripts/fuzz.ts [--runs N] [--decoder dhcp|failover|config|crd]... [--seed N]
//                                          [--minutes M] [--jobs J] [--todo] [--replay-path P --property I]
// --runs      inputs per decoder (default 1000000), split over its properties by weight
// --minutes   wall-clock bound per decoder (default 15); a decoder stopped by it reports the count reached
// --seed      fast-check seed (default: random, printed for replay)
// --jobs      decoders run in parallel worker threads (default 1)
// --todo      also run the properties marked todo (known failures)
// "inputs" are fast-check's generated runs (shrinking attempts after a failure not included).
// Each decoder runs in a worker thread watched through a shared run counter: a single input that
// blocks for more than 10 s is reported as a hang (with the seed and run index) and the worker stopped.
// Prints per decoder: inputs run, seconds, inputs/s, failures (seed and path for replay, as fast-check
// reports them; replay one with FUZZ_SEED=<seed> FUZZ_PATH=<path> on the decoder's test file, or with
// --seed <seed> --replay-path <path> --property <index> here).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { RunReport } from '../test/fuzz/harness.ts';

const DECODERS = ['dhcp', 'failover', 'config', 'crd'] as const;
type DecoderName = (typeof DECODERS)[number];
const HANG_MS = 10_000;

interface Job {
  readonly decoder: DecoderName;
  readonly runs: number;
  readonly seed: number;
  readonly minutes: number;
  readonly todo: boolean;
  readonly replayPath?: string | undefined;
  readonly property?: number | undefined;
  readonly counter: SharedArrayBuffer;
}

/** What a worker posts per property: the harness's run report without the bulky parts, plus the formatted failure. */
type PropertyResult = Pick<RunReport, 'runs' | 'seconds' | 'failed' | 'interrupted' | 'seed' | 'path'> & {
  readonly index: number; readonly name: string; readonly report?: string | undefined; readonly todo?: string | undefined;
};

async function loadDecoder(name: DecoderName) {
  switch (name) {
    case 'dhcp': return (await import('../test/fuzz/dhcp.props.ts')).dhcpDecoder;
    case 'failover': return (await import('../test/fuzz/failover.props.ts')).failoverDecoder;
    case 'config': return (await import('../test/fuzz/config.props.ts')).configDecoder;
    case 'crd': return (await import('../test/fuzz/crd.props.ts')).crdDecoder;
  }
}

// ---------------------------------------------------------------------------------------------
// Worker: run one decoder's properties, counting runs in the shared counter.

async function workerMain(job: Job): Promise<void> {
  const { formatFailure, runProperty, runsFor } = await import('../test/fuzz/harness.ts');
  const d = await loadDecoder(job.decoder);
  const counter = new Int32Array(job.counter);
  const deadline = performance.now() + job.minutes * 60_000;
  const selected = d.properties.map((p, index) => ({ p, index })).filter(({ p, index }) =>
    (job.property === undefined || job.property === index) && (job.todo || job.property !== undefined || p.todo === undefined));
  const budget = { name: d.name, properties: selected.map((s) => s.p) };
  for (const { p, index } of selected) {
    const left = deadline - performance.now();
    if (left <= 0) { parentPort!.postMessage({ kind: 'result', result: { index, name: p.name, runs: 0, seconds: 0, failed: false, interrupted: true, seed: job.seed } }); continue; }
    // Each property gets its weighted share of the remaining time, so one slow property cannot starve the rest.
    const remainingWeight = selected.filter((s) => s.index >= index).reduce((w, s) => w + s.p.weight, 0);
    const timeLimitMs = Math.max(1000, (left * p.weight) / remainingWeight);
    const counted = { ...p, property: () => p.property().beforeEach((prev: () => void) => { Atomics.add(counter, 0, 1); prev(); }) };
    parentPort!.postMessage({ kind: 'start', index, name: p.name });
    const r = runProperty(counted, { numRuns: runsFor(budget, p, job.runs), seed: job.seed, path: job.replayPath, timeLimitMs });
    const { runs, seconds, failed, interrupted, seed, path } = r;
    const result: PropertyResult = { index, name: p.name, runs, seconds, failed, interrupted, seed, path, report: failed ? formatFailure(d.name, r) : undefined, todo: p.todo };
    parentPort!.postMessage({ kind: 'result', result });
  }
  parentPort!.postMessage({ kind: 'done' });
}

// ---------------------------------------------------------------------------------------------
// Main: parse arguments, start workers, watch for hangs, print the figures.

function parseArgs(argv: string[]) {
  const opts = { runs: 1_000_000, decoders: [] as DecoderName[], seed: undefined as number | undefined, minutes: 15, jobs: 1, todo: false, replayPath: undefined as string | undefined, property: undefined as number | undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!, v = argv[i + 1];
    const num = (): number => { const n = Number(v); if (v === undefined || !Number.isFinite(n)) throw new Error(`${a} needs a number`); i++; return n; };
    switch (a) {
      case '--runs': opts.runs = num(); break;
      case '--seed': opts.seed = num(); break;
      case '--minutes': opts.minutes = num(); break;
      case '--jobs': opts.jobs = num(); break;
      case '--property': opts.property = num(); break;
      case '--replay-path': opts.replayPath = v; i++; break;
      case '--todo': opts.todo = true; break;
      case '--decoder': {
        if (!DECODERS.includes(v as DecoderName)) throw new Error(`--decoder must be one of ${DECODERS.join(', ')}`);
        opts.decoders.push(v as DecoderName); i++; break;
      }
      case '--help': case '-h': console.log(readUsage()); process.exit(0); break;
      default: throw new Error(`unknown argument ${a} (see --help)`);
    }
  }
  if (opts.decoders.length === 0) opts.decoders = [...DECODERS];
  return opts;
}

function readUsage(): string {
  return 'usage: node_modules/.bin/node scripts/fuzz.ts [--runs N] [--decoder dhcp|failover|config|crd]... [--seed N] [--minutes M] [--jobs J] [--todo] [--seed S --replay-path P --property I]';
}

interface DecoderSummary { decoder: DecoderName; runs: number; seconds: number; results: PropertyResult[]; hang?: string }

function runDecoder(job: Omit<Job, 'counter'>): Promise<DecoderSummary> {
  return new Promise((resolve) => {
    const counter = new SharedArrayBuffer(4);
    const count = new Int32Array(counter);
    const t0 = performance.now();
    const summary: DecoderSummary = { decoder: job.decoder, runs: 0, seconds: 0, results: [] };
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { ...job, counter } });
    let current = '';
    let last = 0, lastMove = performance.now();
    const finish = () => { clearInterval(watch); summary.runs = summary.results.reduce((n, r) => n + r.runs, 0) || Atomics.load(count, 0); summary.seconds = (performance.now() - t0) / 1000; resolve(summary); };
    const watch = setInterval(() => {
      const now = Atomics.load(count, 0);
      if (now !== last) { last = now; lastMove = performance.now(); return; }
      if (performance.now() - lastMove > HANG_MS) {
        summary.hang = `${job.decoder}: no progress for ${HANG_MS / 1000} s in "${current}" at run ${now} (seed ${job.seed}): an input hangs the decoder; ` +
          `replay with --decoder ${job.decoder} --seed ${job.seed} and a smaller --runs to isolate it`;
        void worker.terminate();
      }
    }, 1000);
    worker.on('message', (m: { kind: string; name?: string; result?: PropertyResult }) => {
      if (m.kind === 'start') current = m.name!;
      else if (m.kind === 'result') {
        summary.results.push(m.result!);
        const r = m.result!;
        console.error(`  [${job.decoder}] ${r.failed ? 'FAILED' : r.interrupted ? 'time limit' : 'ok'}: ${r.runs} runs in ${r.seconds.toFixed(1)} s: ${r.name}`);
      } else if (m.kind === 'done') void worker.terminate();
    });
    worker.on('error', (err) => { summary.hang = `${job.decoder}: worker crashed: ${err.stack ?? String(err)}`; });
    worker.on('exit', finish);
  });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const seed = opts.seed ?? (Math.random() * 2 ** 31) | 0;
  console.log(`fuzz: ${opts.runs} inputs per decoder, seed ${seed}, at most ${opts.minutes} min per decoder, decoders ${opts.decoders.join(', ')}, ${opts.jobs} job(s)`);
  const queue = [...opts.decoders];
  const summaries: DecoderSummary[] = [];
  const lane = async () => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
      summaries.push(await runDecoder({ decoder: d, runs: opts.runs, seed, minutes: opts.minutes, todo: opts.todo, replayPath: opts.replayPath, property: opts.property }));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, lane));

  let failures = 0;
  console.log('\ndecoder    inputs      seconds   inputs/s   failures');
  for (const s of summaries.sort((a, b) => DECODERS.indexOf(a.decoder) - DECODERS.indexOf(b.decoder))) {
    const failed = s.results.filter((r) => r.failed);
    const unexpected = failed.filter((r) => r.todo === undefined).length + (s.hang ? 1 : 0);
    failures += unexpected;
    const reached = s.results.some((r) => r.interrupted) ? ' (time limit)' : '';
    console.log(`${s.decoder.padEnd(10)} ${String(s.runs).padStart(9)} ${s.seconds.toFixed(1).padStart(10)} ${(s.runs / Math.max(s.seconds, 1e-9)).toFixed(0).padStart(10)}   ${failed.length + (s.hang ? 1 : 0)}${failed.some((r) => r.todo) ? ` (${failed.filter((r) => r.todo).length} known/todo)` : ''}${reached}`);
  }
  for (const s of summaries) {
    if (s.hang) console.log(`\nHANG ${s.hang}`);
    for (const r of s.results.filter((x) => x.failed)) {
      console.log(`\n${r.todo ? 'KNOWN (todo) ' : ''}FAILURE [property ${r.index}] ${r.report}`);
      console.log(`  replay here: node_modules/.bin/node scripts/fuzz.ts --decoder ${s.decoder} --property ${r.index} --seed ${r.seed} --replay-path '${r.path ?? ''}' --runs 1`);
    }
  }
  process.exitCode = failures > 0 ? 1 : 0;
}

if (isMainThread) {
  main().catch((err) => { console.error(err instanceof Error ? err.message : err); process.exitCode = 2; });
} else {
  void workerMain(workerData as Job);
}
