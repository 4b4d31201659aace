import { dirname } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoEntitlementStore } from '../../functions/aws/store';
import { LOCAL } from '../../functions/settings';
import { readDevSecrets } from '../local/devSecrets';
import { CliError } from './output';

/**
 * Where the CLI points: the local stack (found on 127.0.0.1:$PORT, like `npm start` uses) or,
 * with `--url`, any webhook base URL. Deployed stacks (`--stack`) come with the operations issue.
 */

export interface LocalStackInfo {
  url: string;
  port: number;
  region: string;
  endpoints: { sqs: string; dynamodb: string; ses: string };
  queueUrl: string;
  dlqUrl: string;
  tableName: string;
  secretsFile: string;
  routes?: Record<string, { method: string; path: string; url: string }[]>;
}

export function localPort(): number {
  const port = Number(process.env.PORT ?? LOCAL.defaultPort);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new CliError(`PORT must be a port number, not "${process.env.PORT}"`);
  return port;
}

export async function findLocalStack(): Promise<LocalStackInfo> {
  const url = `http://127.0.0.1:${localPort()}/_local/stack`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  } catch {
    throw new CliError(`no local keysmith stack answers on 127.0.0.1:${localPort()}. Start it with \`npm start\` (same PORT) in the project folder.`);
  }
  if (!response.ok) throw new CliError(`127.0.0.1:${localPort()} answered ${response.status}; is another program using that port?`);
  return (await response.json()) as LocalStackInfo;
}

/** Secret values for signing: environment first, then the local stack's dev secrets. */
export function signingSecrets(info?: LocalStackInfo): Record<string, string | undefined> {
  const dev = info ? readDevSecrets(dirname(info.secretsFile)) : {};
  const merged: Record<string, string | undefined> = { ...dev };
  for (const [name, value] of Object.entries(process.env)) if (name.startsWith('KEYSMITH_') && value) merged[name] = value;
  return merged;
}

/** The entitlement store of the local stack, through the same adapter the worker uses. */
export function localStore(info: LocalStackInfo): DynamoEntitlementStore {
  const client = new DynamoDBClient({
    endpoint: info.endpoints.dynamodb,
    region: info.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return new DynamoEntitlementStore(client, info.tableName);
}
