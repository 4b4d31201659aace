import { dirname } from 'node:path';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESClient } from '@aws-sdk/client-ses';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoEntitlementStore } from '../../functions/aws/store';
import { LOCAL } from '../../functions/settings';
import { readDevSecrets } from '../local/devSecrets';
import { findRunningStack } from '../local/runFile';
import { CliError, EXIT, usageError } from './output';

/**
 * Where the CLI points. Without `--stack`: the local stack, found on 127.0.0.1:$PORT (what
 * `npm start` uses), whose `GET /_local/stack` names the emulator endpoints; dummy credentials.
 * With `--stack NAME [--region R]` (or `KEYSMITH_STACK`): a deployed stack, whose resources come
 * from its CloudFormation outputs and whose credentials come from the standard AWS chain
 * (environment, profile, SSO, instance role). Every command works through this one object, so it
 * behaves the same against both.
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
  inboxUrl?: string;
  routes?: Record<string, { method: string; path: string; url: string }[]>;
}

export interface TargetOptions {
  /** CloudFormation stack name; `KEYSMITH_STACK` when absent. Absent both: the local stack. */
  stack?: string;
  /** AWS region; the SDK's default chain (AWS_REGION, profile) when absent. */
  region?: string;
}

export interface Target {
  kind: 'local' | 'aws';
  /** For messages: `local stack on 127.0.0.1:3000` or `stack Keysmith (eu-west-1)`. */
  label: string;
  region: string;
  /** The HTTP API base URL (no trailing slash). */
  apiUrl: string;
  queueUrl: string;
  dlqUrl: string;
  tableName: string;
  /** AWS: the CloudFormation stack name. */
  stackName?: string;
  /** AWS: the license secret (output `SecretArn`); before the split, every secret was in it. */
  secretArn?: string;
  /** AWS: each provider's own secret (outputs `SecretArn<Provider>`); absent on stacks deployed before the split. */
  providerSecretArns?: Record<string, string>;
  /** AWS: the SNS topic the alarms notify. */
  alarmTopicArn?: string;
  workerFunctionName?: string;
  /** Local: what `GET /_local/stack` answered. */
  local?: LocalStackInfo;
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  /** The entitlement store through the same adapter the worker uses. */
  store: DynamoEntitlementStore;
  /** SES v1 with a request timeout (the local emulator never answers some v1 actions). */
  ses(): Promise<SESClient>;
  secretsManager(): Promise<SecretsManagerClient>;
  cloudFormation(): Promise<CloudFormationClient>;
  sns(): Promise<SNSClient>;
  /**
   * The secret values the stack's functions see: AWS — the secret's JSON; local — the dev
   * secrets file (the environment of `npm start` may override some; the CLI cannot see it).
   */
  readSecrets(): Promise<Record<string, string>>;
  /** AWS: each secret of the stack and its values (`owner` is `license` or the provider). */
  readSecretStores?(): Promise<SecretStore[]>;
  /** Destroy the SDK clients (their sockets). */
  close(): void;
}

export interface SecretStore {
  owner: string;
  arn: string;
  values: Record<string, string>;
}

/**
 * The local stack's port: PORT when set; else the one `npm start` recorded in
 * `.keysmith/local.json` (when its process is alive); else the default.
 */
export function localPort(): number {
  if (process.env.PORT === undefined || process.env.PORT === '') return findRunningStack()?.port ?? LOCAL.defaultPort;
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw usageError(`PORT must be a port number, not "${process.env.PORT}"`);
  return port;
}

export async function findLocalStack(): Promise<LocalStackInfo> {
  const url = `http://127.0.0.1:${localPort()}/_local/stack`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  } catch {
    throw new CliError(
      `no local keysmith stack answers on 127.0.0.1:${localPort()}. Start it with \`npm start\` in this folder (the CLI finds its port in .keysmith/local.json; PORT=N points it elsewhere), or name a deployed stack with --stack NAME.`,
      EXIT.unreachable,
    );
  }
  if (!response.ok) throw new CliError(`127.0.0.1:${localPort()} answered ${response.status}; is another program using that port?`, EXIT.unreachable);
  return (await response.json()) as LocalStackInfo;
}

/** Secret values for signing: environment first, then the local stack's dev secrets. */
export function signingSecrets(info?: LocalStackInfo, base: Record<string, string> = {}): Record<string, string | undefined> {
  const dev = info ? readDevSecrets(dirname(info.secretsFile)) : {};
  const merged: Record<string, string | undefined> = { ...base, ...dev };
  for (const [name, value] of Object.entries(process.env)) if (name.startsWith('KEYSMITH_') && value) merged[name] = value;
  return merged;
}

/** The entitlement store of the local stack, through the same adapter the worker uses. */
export function localStore(info: LocalStackInfo): DynamoEntitlementStore {
  const client = new DynamoDBClient(localConfig(info, info.endpoints.dynamodb));
  return new DynamoEntitlementStore(client, info.tableName);
}

/** The stack named by the options or `KEYSMITH_STACK`, else the local stack. */
export async function resolveTarget(options: TargetOptions = {}): Promise<Target> {
  const stack = options.stack ?? (process.env.KEYSMITH_STACK || undefined);
  if (options.region && !stack) throw usageError('--region needs --stack NAME (the local stack has no region to choose)');
  return stack ? awsTarget(stack, options.region) : localTarget(await findLocalStack());
}

// ---- local -----------------------------------------------------------------------------------

const DUMMY = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

function localConfig(info: LocalStackInfo, endpoint: string): { endpoint: string; region: string; credentials: typeof DUMMY; maxAttempts: number } {
  // Few attempts: an emulator that does not answer will not start answering on the third retry.
  return { endpoint, region: info.region || LOCAL.region, credentials: DUMMY, maxAttempts: 2 };
}

export function localTarget(info: LocalStackInfo): Target {
  const dynamodb = new DynamoDBClient(localConfig(info, info.endpoints.dynamodb));
  const sqs = new SQSClient(localConfig(info, info.endpoints.sqs));
  const lazy = new LazyClients();
  return {
    kind: 'local',
    label: `local stack on 127.0.0.1:${info.port}`,
    region: info.region || LOCAL.region,
    apiUrl: info.url,
    queueUrl: info.queueUrl,
    dlqUrl: info.dlqUrl,
    tableName: info.tableName,
    local: info,
    dynamodb,
    sqs,
    store: new DynamoEntitlementStore(dynamodb, info.tableName),
    ses: () =>
      lazy.get('ses', async () => {
        const { SESClient } = await import('@aws-sdk/client-ses');
        return new SESClient({ ...localConfig(info, info.endpoints.ses), requestHandler: timeoutHandler(3000) });
      }),
    secretsManager: () => Promise.reject(new CliError('the local stack keeps its secrets in a file, not in Secrets Manager')),
    cloudFormation: () => Promise.reject(new CliError('the local stack has no CloudFormation stack; use --stack NAME')),
    sns: () => Promise.reject(new CliError('the local stack has no SNS topic')),
    readSecrets: async () => {
      const values = readDevSecrets(dirname(info.secretsFile)) ?? {};
      return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => typeof e[1] === 'string'));
    },
    close: () => {
      dynamodb.destroy();
      sqs.destroy();
      lazy.close();
    },
  };
}

// ---- AWS -------------------------------------------------------------------------------------

/** The CfnOutputs of lib/keysmith-stack.ts the CLI reads. */
const REQUIRED_OUTPUTS = ['ApiUrl', 'QueueUrl', 'DlqUrl', 'TableName', 'SecretArn'] as const;

export async function awsTarget(stackName: string, region?: string): Promise<Target> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const config = { ...(region ? { region } : {}) };
  const cloudFormation = new CloudFormationClient(config);
  let outputs: Record<string, string>;
  let resolvedRegion: string;
  try {
    const result = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = result.Stacks?.[0];
    if (!stack) throw new CliError(`no CloudFormation stack named ${stackName}`, EXIT.unreachable);
    outputs = Object.fromEntries((stack.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue).map((o) => [o.OutputKey!, o.OutputValue!]));
    resolvedRegion = await cloudFormation.config.region();
  } catch (error) {
    cloudFormation.destroy();
    throw awsError(error, `cannot read stack ${stackName}`);
  }
  const missing = REQUIRED_OUTPUTS.filter((name) => !outputs[name]);
  if (missing.length > 0) {
    cloudFormation.destroy();
    throw new CliError(`stack ${stackName} has no output ${missing.join(', ')}: is it a keysmith stack (cdk deploy of this project)?`, EXIT.unreachable);
  }
  const clientConfig = { region: resolvedRegion };
  const dynamodb = new DynamoDBClient(clientConfig);
  const sqs = new SQSClient(clientConfig);
  const lazy = new LazyClients();
  const secretArn = outputs.SecretArn!;
  const providerSecretArns = Object.fromEntries(
    Object.entries(outputs)
      .filter(([key]) => /^SecretArn[A-Z][a-z0-9]*$/.test(key))
      .map(([key, arn]) => [key.slice('SecretArn'.length).toLowerCase(), arn]),
  );
  const secretsManager = (): Promise<SecretsManagerClient> => lazy.get('secretsManager', async () => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient(clientConfig));
  const readSecretStores = async (): Promise<SecretStore[]> => {
    const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const client = await secretsManager();
    const stores = [{ owner: 'license', arn: secretArn }, ...Object.entries(providerSecretArns).map(([owner, arn]) => ({ owner, arn }))];
    return Promise.all(
      stores.map(async ({ owner, arn }) => {
        try {
          return { owner, arn, values: parseSecretJson((await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString) };
        } catch (error) {
          throw awsError(error, `cannot read the keysmith ${owner} secret`);
        }
      }),
    );
  };
  return {
    kind: 'aws',
    label: `stack ${stackName} (${resolvedRegion})`,
    region: resolvedRegion,
    apiUrl: outputs.ApiUrl!.replace(/\/$/, ''),
    queueUrl: outputs.QueueUrl!,
    dlqUrl: outputs.DlqUrl!,
    tableName: outputs.TableName!,
    stackName,
    secretArn,
    ...(Object.keys(providerSecretArns).length > 0 ? { providerSecretArns } : {}),
    ...(outputs.AlarmTopicArn ? { alarmTopicArn: outputs.AlarmTopicArn } : {}),
    ...(outputs.WorkerFunctionName ? { workerFunctionName: outputs.WorkerFunctionName } : {}),
    dynamodb,
    sqs,
    store: new DynamoEntitlementStore(dynamodb, outputs.TableName!),
    ses: () =>
      lazy.get('ses', async () => {
        const { SESClient } = await import('@aws-sdk/client-ses');
        return new SESClient({ ...clientConfig, requestHandler: timeoutHandler(10_000) });
      }),
    secretsManager,
    cloudFormation: async () => cloudFormation,
    sns: () => lazy.get('sns', async () => new (await import('@aws-sdk/client-sns')).SNSClient(clientConfig)),
    readSecretStores,
    // What an ingress sees: the license secret, overlaid by its provider's own (functions/aws/secrets.ts).
    readSecrets: async () => Object.assign({}, ...(await readSecretStores()).map((store) => store.values)) as Record<string, string>,
    close: () => {
      dynamodb.destroy();
      sqs.destroy();
      cloudFormation.destroy();
      lazy.close();
    },
  };
}

/** The secret's JSON object; string values only (that is all the functions read). */
export function parseSecretJson(text: string | undefined): Record<string, string> {
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError('the keysmith secret is not a JSON object; fix it with `keysmith secrets set NAME --stack …` after restoring it to {}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError('the keysmith secret is not a JSON object');
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** An SDK error as a CLI error that says what to do. Credentials and missing stacks are "unreachable". */
export function awsError(error: unknown, what: string): CliError {
  if (error instanceof CliError) return error;
  const e = error as { name?: string; message?: string; Code?: string };
  const name = e.name ?? 'Error';
  const message = e.message ?? String(error);
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return new CliError(`${what}: no usable AWS credentials (${message}). Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.`, EXIT.unreachable);
  }
  if (/region is missing/i.test(message)) return new CliError(`${what}: no AWS region; pass --region or set AWS_REGION`, EXIT.usage);
  if (name === 'ValidationError' && /does not exist/.test(message)) return new CliError(`${what}: ${message}`, EXIT.unreachable);
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || /not authorized/i.test(message)) {
    return new CliError(`${what}: access denied (${message})`, EXIT.failed);
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|socket hang up|TimeoutError/i.test(`${name} ${message}`)) {
    return new CliError(`${what}: cannot reach AWS (${message})`, EXIT.unreachable);
  }
  return new CliError(`${what}: ${name}: ${message}`, EXIT.failed);
}

function timeoutHandler(requestTimeout: number): NodeHttpHandler {
  return new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout, throwOnRequestTimeout: true });
}

/** SDK clients made on first use (each one costs a module load), destroyed together. */
class LazyClients {
  private readonly made = new Map<string, Promise<{ destroy(): void }>>();

  get<T extends { destroy(): void }>(name: string, make: () => Promise<T>): Promise<T> {
    let client = this.made.get(name);
    if (!client) {
      client = make();
      this.made.set(name, client);
    }
    return client as Promise<T>;
  }

  close(): void {
    for (const client of this.made.values())
      void client.then(
        (c) => c.destroy(),
        () => undefined,
      );
    this.made.clear();
  }
}
