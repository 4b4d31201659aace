import { LICENSING_ROUTES } from '../../functions/licensing/routes';
import { isEmulatorThread, serveEmulatorsInThisThread, startEmulatorsInThread } from './emulatorThread';
import { removeRunFile, writeRunFile } from './runFile';
import { type LocalStack, startLocalStack } from './stack';

/**
 * `npm start [-- --reset]`: starts the local stack and prints where everything is. Handler and
 * stack logs follow as JSON lines on stdout; the banner above them is for people.
 *
 * The data (licenses, orders, the delivery log, queued messages) is kept in .keysmith/data across
 * restarts; `--reset` deletes it first. `.keysmith/local.json` tells the CLI which port to use.
 */

const STATE_DIR = '.keysmith';
const USAGE = 'usage: npm start [-- --reset]   (PORT=N picks the port; KEYSMITH_CONFIG=FILE the catalog)';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--reset');
  if (unknown.length > 0) {
    process.stderr.write(`${args.includes('--help') || args.includes('-h') ? '' : `unknown argument ${unknown[0]}\n`}${USAGE}\n`);
    process.exitCode = args.includes('--help') || args.includes('-h') ? 0 : 2;
    return;
  }
  const reset = args.includes('--reset');
  // The SDK's nine-line Node-version notice would sit above the banner; one line in it says the same.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const started = Date.now();
  let stack: LocalStack;
  try {
    // The emulators get their own thread (this same bundle, started again): webhook answers do
    // not wait behind dynalite's work for other requests.
    stack = await startLocalStack({ stateDir: STATE_DIR, persist: true, reset, emulators: (options) => startEmulatorsInThread(__filename, options) });
  } catch (error) {
    process.stderr.write(`keysmith local stack could not start: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  writeRunFile(STATE_DIR, { pid: process.pid, port: stack.port, url: stack.url, startedAt: new Date().toISOString() });
  process.stdout.write(banner(stack, Date.now() - started, reset));

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`\n${signal} again: exiting without waiting\n`);
      process.exit(130);
    }
    stopping = true;
    removeRunFile(STATE_DIR);
    process.stdout.write(`\n${signal}: stopping (waiting for running worker invocations)…\n`);
    const force = setTimeout(() => {
      process.stderr.write('still not stopped after 35 s: exiting\n');
      process.exit(1);
    }, 35_000);
    force.unref();
    stack.stop().then(
      () => {
        process.stdout.write('stopped\n');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`stop failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

function banner(stack: LocalStack, ms: number, reset: boolean): string {
  const rows: Array<[string, string]> = [];
  for (const [provider, routes] of Object.entries(stack.routes)) {
    for (const route of routes ?? []) rows.push([`  ${provider}`, `${route.method.padEnd(4)} ${route.url}`]);
  }
  const width = Math.max(22, ...rows.map(([label]) => label.length + 2));
  const line = (label: string, value: string): string => `${label.padEnd(width)}${value}\n`;
  let out = `\nkeysmith local stack ready in ${ms} ms\n\nWebhooks\n`;
  for (const [label, value] of rows) out += line(label, value);
  out += '\nLicense API (LicensingUrl)\n';
  for (const path of LICENSING_ROUTES) out += line(`  ${path.split('/').pop()}`, `POST ${stack.licensingUrl}${path}`);
  out += '\n';
  out += line('Email inbox (SES)', stack.inboxUrl);
  out += line('Dev secrets', stack.secretsFile);
  out += line('Queue', stack.queueUrl);
  out += line('Dead-letter queue', stack.dlqUrl);
  out += line('DynamoDB', `${stack.endpoints.dynamodb}  table ${stack.tableName}`);
  out += line('Stack info', `${stack.url}/_local/stack`);
  out += line('Data', `${stack.dataDir ?? 'in memory'}${reset ? ' (reset: started empty)' : ''}`);
  if (stack.restoredMessages > 0) out += line('', `${stack.restoredMessages} queued message(s) from before the restart put back; the worker applies them now`);
  if (Number(process.versions.node.split('.')[0]) < 22) out += `\nNote: AWS SDK releases after early January 2027 need Node 22+ (this is ${process.version}).\n`;
  // The CLI finds this port in .keysmith/local.json from this folder; elsewhere PORT says it.
  out += `\nTry: node bin/keysmith.cjs send fastspring   (or npx keysmith …; from another folder: PORT=${stack.port} …)\n`;
  out += 'Ctrl+C stops; the data stays in .keysmith/data (npm start -- --reset empties it). Logs follow as JSON lines.\n\n';
  return out;
}

if (isEmulatorThread()) void serveEmulatorsInThisThread();
else void main();
