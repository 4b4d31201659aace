import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderReliability } from './report';
import { optionsFromEnv, runSoak } from './soak';

/**
 * `npm run soak [-- --out FILE]`: the full-size soak (10,000 orders, 50,000 fuzzed requests unless
 * KEYSMITH_SOAK_ORDERS / KEYSMITH_SOAK_FUZZ say otherwise), then RELIABILITY.md with the numbers
 * and each assertion's verdict. Exits 1 when an assertion failed. Progress goes to stderr.
 */

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = resolve(outAt >= 0 && args[outAt + 1] ? args[outAt + 1]! : 'RELIABILITY.md');
  const options = optionsFromEnv({ orders: 10_000, fuzzCases: 50_000, subscriptions: { count: 200, months: 36, disputes: 100, stripe: 60 } });
  const started = Date.now();
  const progress = (line: string): void => void process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  progress(`soak: ${options.orders} orders, ${options.fuzzCases} fuzz cases, seed ${options.seed}`);
  const report = await runSoak({ ...options, progress });
  const sizes = ['KEYSMITH_SOAK_ORDERS', 'KEYSMITH_SOAK_FUZZ', 'KEYSMITH_SOAK_CONCURRENCY', 'KEYSMITH_SOAK_WORKER_CONCURRENCY']
    .filter((name) => process.env[name])
    .map((name) => `${name}=${process.env[name]}`);
  const command = [`KEYSMITH_SOAK_SEED=${options.seed}`, ...sizes, 'npm run soak'].join(' ');
  writeFileSync(out, renderReliability(report, { command }));
  for (const check of report.checks) progress(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.found}${check.ok ? '' : ` (required ${check.required})`}`);
  for (const check of report.checks.filter((c) => !c.ok)) for (const example of check.examples ?? []) progress(`     ${example}`);
  progress(`${report.ok ? 'all assertions hold' : 'ASSERTIONS FAILED'}; wrote ${out} (${(report.ms / 1000).toFixed(0)} s)`);
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 2;
});
