// Decode and encode throughput for a typical DISCOVER (captured from udhcpc) and ACK.
// Run: node_modules/.bin/node bench/codec.ts [seconds per case, default 0.33]
import { readFileSync } from 'node:fs';
import { decodeMessage, encodeMessage } from '../src/dhcp/wire/packet.ts';
import { getClientId, getMessageType, getParameterRequestList, getRequestedIp, getServerId } from '../src/dhcp/wire/message-options.ts';

const seconds = Number(process.argv[2] ?? 0.33);
const hex = (name: string): Buffer => Buffer.from(readFileSync(new URL(`../test/fixtures/dhcp/${name}`, import.meta.url), 'utf8').trim(), 'hex');
const discover = hex('udhcpc-discover.hex');
const ack = hex('server-ack-to-udhcpc.hex');
const ackMsg = decodeMessage(ack);
const discoverMsg = decodeMessage(discover);

function run(name: string, fn: () => unknown): void {
  let sink: unknown;
  for (let i = 0; i < 20_000; i++) sink = fn(); // warm-up
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let n = 0;
  while (process.hrtime.bigint() < deadline) { for (let i = 0; i < 1000; i++) sink = fn(); n += 1000; }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${name.padEnd(34)} ${Math.round(n / elapsed).toLocaleString('en').padStart(12)} ops/s`);
  if (sink === undefined) throw new Error('no result');
}

run('decode DISCOVER', () => decodeMessage(discover));
run('decode DISCOVER + hot accessors', () => {
  const m = decodeMessage(discover);
  return [getMessageType(m), getClientId(m), getRequestedIp(m), getServerId(m), getParameterRequestList(m)];
});
run('encode DISCOVER', () => encodeMessage(discoverMsg));
run('decode ACK', () => decodeMessage(ack));
run('encode ACK', () => encodeMessage(ackMsg));
run('encode ACK (maxSize 576)', () => encodeMessage(ackMsg, { maxSize: 576 }));
