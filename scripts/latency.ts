/**
 * Issue 2's measurement: webhook received → email captured, over N sequential FastSpring orders
 * through the local stack (real handlers, emulators). Usage: node bin/run-script.cjs scripts/latency.ts [N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEBHOOK_PROVIDERS } from '../functions/providers/registry';
import { readDevSecrets } from '../lib/local/devSecrets';
import { startLocalStack } from '../lib/local/stack';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100);
  const stateDir = mkdtempSync(join(tmpdir(), 'keysmith-latency-'));
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const stack = await startLocalStack({ port: 0, stateDir, log: false });
  const sample = await WEBHOOK_PROVIDERS.find((p) => p.name === 'fastspring')!.sample();
  const secrets = { ...stack.env, ...readDevSecrets(stateDir) };
  const latencies: number[] = [];
  const acks: number[] = [];
  for (let i = 0; i < n; i++) {
    const email = `latency-${i}-${Date.now()}@example.com`;
    const request = sample.build({ secrets, email });
    const started = performance.now();
    const response = await fetch(`${stack.url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
    const ackAt = performance.now();
    if (response.status !== 200) throw new Error(`answer ${response.status}`);
    for (;;) {
      const store = (await (await fetch(`${stack.endpoints.ses}/store`)).json()) as { emails: { destination: { to: string[] } }[] };
      if (store.emails.some((e) => e.destination.to.includes(email))) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    latencies.push(performance.now() - started);
    acks.push(ackAt - started);
  }
  await stack.stop();
  rmSync(stateDir, { recursive: true, force: true });
  process.stdout.write = write;
  latencies.sort((a, b) => a - b);
  acks.sort((a, b) => a - b);
  const q = (values: number[], p: number) => values[Math.min(values.length - 1, Math.floor(p * values.length))]!.toFixed(1);
  process.stdout.write(`webhook → email captured over ${n} sequential orders: p50 ${q(latencies, 0.5)} ms, p90 ${q(latencies, 0.9)} ms, max ${q(latencies, 1)} ms; ack p50 ${q(acks, 0.5)} ms\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
