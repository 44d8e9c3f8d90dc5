// Runs RelayClient inside a network namespace (ip netns exec NS node relay-client-cli.ts ...):
//   relay-client-cli.ts --relay 10.100.1.1 --targets 255.255.255.255 --plan plan.json
// plan.json: { "clients": [{ "mac": "02:..", "requested"?: "10.100.1.12" }], "concurrency"?: 20,
//              "timeoutMs"?: 4000, "retryMs"?: 1000, "staggerMs"?: 100 }
// Prints one JSON array: one Acquired object (or null: no lease) per client, in plan order.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RelayClient, type AcquireOptions } from './relay-client.ts';

interface Plan extends AcquireOptions { clients: { mac: string; requested?: string }[]; concurrency?: number; staggerMs?: number }

const { values } = parseArgs({ options: { relay: { type: 'string' }, targets: { type: 'string' }, port: { type: 'string' }, plan: { type: 'string' } } });
if (!values.relay || !values.targets || !values.plan) {
  process.stderr.write('usage: relay-client-cli.ts --relay ADDR --targets A[,B] [--port 67] --plan FILE\n');
  process.exit(2);
}
const plan = JSON.parse(readFileSync(values.plan, 'utf8')) as Plan;
const client = new RelayClient({ relayAddress: values.relay, targets: values.targets.split(','), serverPort: Number(values.port ?? 67) });
await client.open();
try {
  const results = await client.acquireAll(plan.clients, plan);
  process.stdout.write(JSON.stringify(results.map((r) => r ?? null)) + '\n');
} finally {
  client.close();
}
