import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../../lib/local/definitions';

/**
 * The store's integration tests run against two real DynamoDB APIs over HTTP: dynalite (pure JS,
 * what `npm start` uses) and Amazon's own DynamoDB Local (Java; the jar ships inside the npm
 * package amplify-dynamodb-simulator — its index.js is never loaded), so dynalite's leniencies
 * cannot hide a bug. DynamoDB Local needs a JRE; CI sets KEYSMITH_REQUIRE_DYNAMODB_LOCAL=1 so a
 * missing one fails instead of skipping.
 */

export type Backend = 'dynalite' | 'dynamodb-local';

export interface TestTable {
  client: DynamoDBClient;
  tableName: string;
  endpoint: string;
  stop(): Promise<void>;
}

export function javaAvailable(): boolean {
  return spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
}

export function backends(): Backend[] {
  const required = process.env.KEYSMITH_REQUIRE_DYNAMODB_LOCAL === '1';
  if (required || javaAvailable()) return ['dynalite', 'dynamodb-local'];
  process.stderr.write('note: no Java runtime: the DynamoDB Local half of the store tests is skipped\n');
  return ['dynalite'];
}

let tables = 0;
export async function startTable(backend: Backend): Promise<TestTable> {
  const { endpoint, stop } = backend === 'dynalite' ? await startDynalite() : await startDynamoDbLocal();
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const tableName = `keysmith-test-${process.pid}-${++tables}`;
  await client.send(new CreateTableCommand({ ...tableDefinition(), TableName: tableName }));
  return {
    client,
    tableName,
    endpoint,
    stop: async () => {
      client.destroy();
      await stop();
    },
  };
}

async function startDynalite(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (options: object) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startDynamoDbLocal(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const folder = join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const port = await freePort();
  const child: ChildProcess = spawn(
    'java',
    [
      `-Djava.library.path=${join(folder, 'DynamoDBLocal_lib')}`,
      '-XX:TieredStopAtLevel=1',
      '-jar',
      join(folder, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    // It writes dynamodb-local-metadata.json into its working directory: keep that out of the repo.
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: mkdtempSync(join(tmpdir(), 'keysmith-ddb-')) },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const probe = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}): ${stderr.slice(0, 500)}`);
    try {
      await probe.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not start within 120 s: ${stderr.slice(0, 500)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  probe.destroy();
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
