import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { forgetDeliveryLog } from '../../functions/aws/deliveryLog';
import { forgetQueue } from '../../functions/aws/queue';
import { forgetSecrets } from '../../functions/aws/secrets';
import { DynamoEntitlementStore } from '../../functions/aws/store';
import { EXAMPLE_CONFIG_PATH, forgetCatalog, readCatalogFile } from '../../functions/config/loadCatalog';
import type { ProviderName } from '../../functions/domain/events';
import { LICENSING_ROUTES, LICENSING_THROTTLE } from '../../functions/licensing/routes';
import { createLogger } from '../../functions/log/logger';
import { SECRET_NAMES, WEBHOOK_PROVIDERS, type WebhookRegistration } from '../../functions/providers/registry';
import { LOCAL } from '../../functions/settings';
import { forgetWorker } from '../../functions/worker/handler';
import { type ApiRoute, createApiServer, type HttpApiHandler, TokenBucket } from './apiServer';
import { effectiveQueueSettings, type QueueOverrides } from './definitions';
import { ensureDevSecrets } from './devSecrets';
import { closeServer, DUMMY_CREDENTIALS, type EmulatorEndpoints, type EmulatorOptions, type Emulators, LOOPBACK, listen, localClientConfig, startEmulators } from './emulators';
import { QueuePoller, type WorkerHandler } from './poller';

/**
 * `npm start`: the whole pipeline on loopback — emulators, the HTTP API stand-in in front of the
 * provider handlers, and the SQS event source in front of the worker — configured through the
 * same environment variables the Lambda functions get in AWS.
 */

export interface LocalStackOptions {
  /** HTTP port of the API; 0 picks a free one. @default Number(process.env.PORT ?? LOCAL.defaultPort) */
  port?: number;
  /** The keysmith config file. @default process.env.KEYSMITH_CONFIG ?? 'config/keysmith.example.json' */
  configPath?: string;
  /** Where the dev secrets file (and, with `persist`, the data) lives. @default '.keysmith' */
  stateDir?: string;
  /**
   * Keep the DynamoDB table and the queued messages in `<stateDir>/data` across restarts
   * (`npm start`). @default false: in memory (tests)
   */
  persist?: boolean;
  /** Delete `<stateDir>/data` before starting: begin again with no licenses and empty queues. */
  reset?: boolean;
  /**
   * Handlers to use instead of the real ones (tests). With `ingress` given, only the providers
   * named in it are served; the others' routes answer 404.
   * @default every webhook provider from PROVIDER_REGISTRY and functions/worker/handler.ts
   */
  handlers?: { ingress?: Partial<Record<ProviderName, HttpApiHandler>>; worker?: WorkerHandler; licensing?: HttpApiHandler };
  /** The license API's throttling, as API Gateway applies it. @default LICENSING_THROTTLE */
  licensingThrottle?: { rateLimit: number; burstLimit: number };
  /** Request and poller logs on stdout (JSON lines). @default true */
  log?: boolean;
  /** Shorter queue timings for tests. @default the settings */
  queueOverrides?: QueueOverrides;
  /**
   * How the emulators start: `startEmulators` (in-process) or, to give them their own thread,
   * `(o) => startEmulatorsInThread(bundleFile, o)` (see emulatorThread.ts).
   * @default startEmulators
   */
  emulators?: (options: EmulatorOptions) => Promise<Emulators>;
}

export interface LocalStackRoute {
  method: 'GET' | 'POST';
  path: string;
  url: string;
}

/** What `GET /_local/stack` answers. */
export interface LocalStackInfo {
  url: string;
  port: number;
  endpoints: EmulatorEndpoints;
  queueUrl: string;
  dlqUrl: string;
  tableName: string;
  region: string;
  secretsFile: string;
  /** The SES emulator's inbox web UI. */
  inboxUrl: string;
  routes: Record<ProviderName, LocalStackRoute[]>;
  /** The license API's base URL (`{licensingUrl}/v1/licenses/validate`, …): the `LicensingUrl` of a deployed stack. */
  licensingUrl: string;
  /** Where the table and queue journal are kept; absent when the stack keeps them in memory. */
  dataDir?: string;
}

export interface LocalStack extends LocalStackInfo {
  /** Messages accepted before the last stop and put back in the queues at start. */
  restoredMessages: number;
  /** Everything set in process.env for the handlers (including the dev secrets). */
  env: Record<string, string>;
  poller: QueuePoller;
  info(): LocalStackInfo;
  /** Stops the API, lets running worker invocations finish, closes the emulators, restores env. */
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log === false ? undefined : createLogger({ source: 'local-stack' });
  const port = options.port ?? Number(process.env.PORT ?? LOCAL.defaultPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${String(options.port ?? process.env.PORT)}`);
  const settings = effectiveQueueSettings(options.queueOverrides);
  if (!Number.isInteger(settings.visibilityTimeoutSeconds) || settings.visibilityTimeoutSeconds < 1) {
    throw new Error('the local stack needs a visibility timeout of at least 1 whole second');
  }

  // Fail before starting anything when the config is broken; the error names the file.
  const configPath = resolve(options.configPath ?? process.env.KEYSMITH_CONFIG ?? EXAMPLE_CONFIG_PATH);
  readCatalogFile(configPath);
  const stateDir = options.stateDir ?? '.keysmith';
  const secrets = ensureDevSecrets(stateDir);
  const dataDir = options.persist || options.reset ? localDataDir(stateDir) : undefined;
  if (options.reset && dataDir) rmSync(dataDir, { recursive: true, force: true });

  // Undo steps, run last-in first-out: API first (no new work), then the poller (lets running
  // invocations finish), then clients, environment and emulators.
  const undo: Array<() => Promise<void> | void> = [];
  const runUndo = async (): Promise<void> => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  try {
    const emulators = await (options.emulators ?? startEmulators)({
      ...(options.queueOverrides ? { queueOverrides: options.queueOverrides } : {}),
      ...(options.persist && dataDir ? { dataDir } : {}),
    });
    undo.push(() => emulators.stop());

    const env = localEnvironment(emulators, configPath, secrets.values);
    undo.push(applyEnvironment(env));

    const registrations = servedProviders(options.handlers?.ingress);
    const routes = await loadRoutes(registrations, options.handlers?.ingress);
    const worker = options.handlers?.worker ?? (await import('../../functions/worker/handler')).handler;
    // The license API: its own routes and its own throttle (in AWS, an HTTP API of its own).
    const licensing = options.handlers?.licensing ?? (await import('../../functions/licensing/handler')).handler;
    const licensingBucket = new TokenBucket(options.licensingThrottle ?? LICENSING_THROTTLE);
    for (const path of LICENSING_ROUTES) routes.push({ provider: 'licensing', method: 'POST', path, handler: licensing, throttle: licensingBucket });

    const sqs = new SQSClient(localClientConfig(emulators.endpoints.sqs));
    undo.push(() => sqs.destroy());
    const poller = new QueuePoller({
      client: sqs,
      queueUrl: emulators.queueUrl,
      queueArn: emulators.queueArn,
      handler: worker,
      settings,
      moveToDeadLetterQueue: (message) => emulators.moveToDeadLetterQueue(message),
      ...(log ? { log } : {}),
    });
    poller.start();
    undo.push(() => poller.stop());
    if (options.persist) {
      // Orders kept from an older keysmith have no license views yet: write them (idempotent,
      // conditional on each order's version), in the background so the stack is ready at once.
      void upgradeStoredData(emulators.endpoints.dynamodb, emulators.tableName, log);
    }

    let info: LocalStackInfo | undefined;
    const api = createApiServer({ routes, stackInfo: () => info, onAccepted: () => poller.nudge(), ...(log ? { log } : {}) });
    undo.push(() => closeServer(api));
    const apiPort = await listenOrExplain(api, port);
    const url = `http://${LOOPBACK}:${apiPort}`;
    info = {
      url,
      port: apiPort,
      endpoints: emulators.endpoints,
      queueUrl: emulators.queueUrl,
      dlqUrl: emulators.dlqUrl,
      tableName: emulators.tableName,
      region: LOCAL.region,
      secretsFile: secrets.file,
      inboxUrl: `${emulators.endpoints.ses}/`,
      routes: routeInfo(registrations, url),
      licensingUrl: url,
      ...(options.persist && dataDir ? { dataDir } : {}),
    };

    const stackInfo = info;
    let stopping: Promise<void> | undefined;
    return {
      ...stackInfo,
      restoredMessages: emulators.restoredMessages,
      env,
      poller,
      info: () => stackInfo,
      stop: () => (stopping ??= runUndo()),
    };
  } catch (error) {
    await runUndo();
    throw error;
  }
}

async function upgradeStoredData(endpoint: string, tableName: string, log: ReturnType<typeof createLogger> | undefined): Promise<void> {
  const dynamodb = new DynamoDBClient(localClientConfig(endpoint));
  try {
    const { backfillViews } = await import('../cli/commands/migrate');
    const result = await backfillViews(dynamodb, tableName, new DynamoEntitlementStore(dynamodb, tableName));
    if (result.orders > 0) log?.info('stored orders checked: every license has its license API view', result);
  } catch (error) {
    log?.warn('could not write the license views of stored orders; run `keysmith migrate`', { error });
  } finally {
    dynamodb.destroy();
  }
}

/** Where a persistent local stack keeps its table and queue journal. */
export function localDataDir(stateDir: string): string {
  return resolve(stateDir, 'data');
}

/** The environment of the Lambda functions, pointed at the emulators. */
function localEnvironment(emulators: Emulators, configPath: string, secrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: LOCAL.region,
    AWS_DEFAULT_REGION: LOCAL.region,
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
    // Without this the SDK probes the instance metadata address when credentials look odd.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_SQS: emulators.endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
    AWS_ENDPOINT_URL_SES: emulators.endpoints.ses,
    AWS_ENDPOINT_URL_SESV2: emulators.endpoints.ses,
    KEYSMITH_QUEUE_URL: emulators.queueUrl,
    KEYSMITH_DLQ_URL: emulators.dlqUrl,
    KEYSMITH_TABLE_NAME: emulators.tableName,
    KEYSMITH_CONFIG: configPath,
  };
  for (const name of SECRET_NAMES) {
    const value = secrets[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Names that must not leak in from the developer's shell: they would point at real AWS. */
const UNSET = ['KEYSMITH_SECRET_ARN', 'KEYSMITH_PROVIDER_SECRET_ARN', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;

/** Sets `env` in process.env (handlers read it there); returns the undo. */
/** Module-level caches in the handlers' code hold clients and values from the old environment. */
function forgetCaches(): void {
  forgetSecrets();
  forgetCatalog();
  forgetQueue();
  forgetDeliveryLog();
  forgetWorker();
}

function applyEnvironment(env: Record<string, string>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const name of [...Object.keys(env), ...UNSET]) previous.set(name, process.env[name]);
  for (const name of UNSET) delete process.env[name];
  Object.assign(process.env, env);
  // Module-level caches in the handlers' code were filled from the old environment.
  forgetCaches();
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    forgetCaches();
  };
}

function servedProviders(injected: Partial<Record<ProviderName, HttpApiHandler>> | undefined): WebhookRegistration[] {
  if (!injected) return [...WEBHOOK_PROVIDERS];
  const unknown = Object.keys(injected).filter((name) => !WEBHOOK_PROVIDERS.some((r) => r.name === name));
  if (unknown.length > 0) throw new Error(`no webhook provider named ${unknown.join(', ')} in PROVIDER_REGISTRY`);
  return WEBHOOK_PROVIDERS.filter((r) => injected[r.name] !== undefined);
}

async function loadRoutes(registrations: WebhookRegistration[], injected?: Partial<Record<ProviderName, HttpApiHandler>>): Promise<ApiRoute[]> {
  const routes: ApiRoute[] = [];
  for (const registration of registrations) {
    let handler = injected?.[registration.name];
    if (!handler) {
      try {
        handler = (await registration.load()).handler;
      } catch (error) {
        throw new Error(`cannot load the ${registration.name} handler (${registration.entry}): ${(error as Error).message}`);
      }
    }
    for (const route of registration.routes) routes.push({ provider: registration.name, method: route.method, path: route.path, handler });
  }
  return routes;
}

function routeInfo(registrations: WebhookRegistration[], url: string): Record<ProviderName, LocalStackRoute[]> {
  const out: Record<ProviderName, LocalStackRoute[]> = {};
  for (const registration of registrations) {
    out[registration.name] = registration.routes.map((route) => ({ method: route.method, path: route.path, url: `${url}${route.path}` }));
  }
  return out;
}

async function listenOrExplain(server: Server, port: number): Promise<number> {
  try {
    return await listen(server, port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${port} on ${LOOPBACK} is in use (another local stack?); set PORT to another port, or PORT=0 for any free one`);
    }
    throw error;
  }
}
