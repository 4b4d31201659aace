import { configPath, loadCatalog } from '../../../functions/config/loadCatalog';
import { PROVIDER_NAMES, SECRET_NAMES, secretOwner, secretSpec } from '../../../functions/providers/registry';
import { exampleCatalogProblem, unknownCatalogProviders } from '../../catalogWarnings';
import { keyCheck } from '../keyChecks';
import { CliError, EXIT, type Output } from '../output';
import { SECRET_PROVIDER, secretProblem } from '../secretChecks';
import { resolveTarget, type Target, type TargetOptions } from '../target';
import { depth } from './dlq';
import { sesAccountChecks } from './doctorSes';

/**
 * `keysmith doctor`: one verdict per line — ✔ ok, ! warn, ✘ fail, – does not apply — and exit 1
 * when anything failed. Secret values are never printed, only whether they are set and well-formed.
 *
 * Local: the stack and its emulators answer, the dev secrets, the queues. AWS: the stack's
 * status, the secret's keys, the SES sender identity and sandbox/quota, the queues, the alarms
 * and whether anyone is subscribed to them.
 */

/** `skip`: the check does not apply here (never shown as ✔). */
export type Verdict = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** What was checked, e.g. `secrets`, `ses identity`, `dlq`. */
  check: string;
  status: Verdict;
  detail: string;
}

/** `doctor --json`. */
export interface DoctorResult {
  target: 'local' | 'aws';
  label: string;
  ok: boolean;
  checks: Check[];
}

const MARK: Record<Verdict, string> = { ok: '✔', warn: '!', fail: '✘', skip: '–' };

export async function doctor(targetOptions: TargetOptions, out: Output): Promise<void> {
  const checks: Check[] = [];
  const add = (check: string, status: Verdict, detail: string): void => {
    checks.push({ check, status, detail });
  };
  let t: Target | undefined;
  try {
    t = await resolveTarget(targetOptions);
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode === EXIT.usage) throw error;
    add((targetOptions.stack ?? process.env.KEYSMITH_STACK) ? 'stack' : 'local stack', 'fail', error.message);
  }
  if (t) {
    add(t.kind === 'local' ? 'local stack' : 'stack', 'ok', `${t.label} answers`);
    await guarded(add, 'secrets', () => secretChecks(t!, add));
    if (t.kind === 'aws') await guarded(add, 'secrets', () => secretPlacement(t!, add));
    await guarded(add, 'catalog', async () => catalogCheck(add));
    if (t.kind === 'local') await localChecks(t, add);
    else await awsChecks(t, add);
    await guarded(add, 'queue', async () => {
      const n = await depth(t!, t!.queueUrl);
      add('queue', 'ok', `${n} message(s) waiting or in flight`);
    });
    await guarded(add, 'dlq', async () => {
      const n = await depth(t!, t!.dlqUrl);
      if (n === 0) add('dlq', 'ok', 'the DLQ is empty');
      else add('dlq', 'fail', `the DLQ holds ${n} message(s): \`keysmith dlq list\`, fix the cause, \`keysmith dlq redrive --all\``);
    });
    t.close();
  }
  const result: DoctorResult = { target: t?.kind ?? (targetOptions.stack ? 'aws' : 'local'), label: t?.label ?? '', ok: !checks.some((c) => c.status === 'fail'), checks };
  out.result(result, () => {
    const width = Math.max(...checks.map((c) => c.check.length));
    const lines = checks.map((c) => `${MARK[c.status]} ${c.check.padEnd(width)}  ${c.detail}`);
    const fails = checks.filter((c) => c.status === 'fail').length;
    const warns = checks.filter((c) => c.status === 'warn').length;
    lines.push('', fails > 0 ? `${fails} problem(s), ${warns} warning(s)` : warns > 0 ? `healthy, ${warns} warning(s)` : 'healthy');
    return lines.join('\n');
  });
  const failed = checks.filter((c) => c.status === 'fail');
  // The exit line names what is broken, so a script's log says it without the table.
  if (!result.ok) throw new CliError(`doctor found ${failed.length} problem(s): ${failed.map((c) => `${c.check}: ${c.detail.split(':')[0]}`).join('; ')}`, EXIT.failed);
}

type Add = (check: string, status: Verdict, detail: string) => void;

async function guarded(add: Add, check: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    add(check, 'fail', `could not check: ${(error as Error).message}`);
  }
}

async function secretChecks(t: Target, add: Add): Promise<void> {
  const values = await t.readSecrets();
  const where = t.kind === 'aws' ? 'in the secret' : 'in the dev secrets file';
  const catalog = loadCatalog();
  const usesSigned = Object.values(catalog.products).some((p) => p.license.format === 'signed');
  let providers = 0;
  for (const name of SECRET_NAMES) {
    const value = values[name];
    if (value) {
      // A key is tried at its job; a shared secret is checked for its form.
      const problem = secretProblem(name, value);
      const tried = problem ? undefined : await keyCheck(name, values, catalog);
      if (problem) add('secrets', 'fail', `${name} ${problem}`);
      else if (tried) add('secrets', tried.status, tried.detail);
      else add('secrets', 'ok', `${name} set`);
      if (!problem && tried?.status !== 'fail' && SECRET_PROVIDER[name]) providers++;
      continue;
    }
    add('secrets', ...missing(name, usesSigned, where));
  }
  if (providers === 0) add('secrets', 'fail', 'no provider secret is set: every webhook is refused (`keysmith secrets set NAME`)');
  if (t.kind === 'local') add('secrets', 'skip', 'note: variables set in the environment of `npm start` override the file');
}

/**
 * The catalog this folder runs and deploys (`keysmith.config.json`, `KEYSMITH_CONFIG`, else the
 * example): the example licenses any product id, from an address nobody owns.
 */
function catalogCheck(add: Add): void {
  const catalog = loadCatalog();
  const unknown = unknownCatalogProviders(catalog, PROVIDER_NAMES);
  if (unknown.length > 0) add('catalog', 'fail', `${configPath()}: products match ids of ${unknown.join(', ')}, which no registered provider is (one of ${PROVIDER_NAMES.join(', ')})`);
  const problem = exampleCatalogProblem(catalog);
  if (problem) add('catalog', 'warn', `${configPath()}: ${problem}`);
  else if (unknown.length === 0) add('catalog', 'ok', `${configPath()}`);
}

/**
 * Provider values still in the license secret (a stack deployed before the secrets were split):
 * every ingress can read that one. `secrets set --stack` moves a value to its provider's secret.
 */
async function secretPlacement(t: Target, add: Add): Promise<void> {
  if (!t.readSecretStores || !t.providerSecretArns) return;
  const license = (await t.readSecretStores()).find((store) => store.owner === 'license');
  const misplaced = Object.keys(license?.values ?? {}).filter((name) => {
    const owner = secretOwner(name);
    return owner !== undefined && owner !== 'license' && t.providerSecretArns![owner] !== undefined;
  });
  if (misplaced.length > 0) {
    add('secrets', 'warn', `${misplaced.join(', ')} still in the license secret, which every ingress can read: move each with \`keysmith secrets set NAME --stack ${t.stackName ?? '…'}\``);
  }
}

function missing(name: string, usesSigned: boolean, where: string): [Verdict, string] {
  if (name === 'KEYSMITH_LICENSE_SECRET') return ['fail', `${name} not set ${where}: no license can be issued`];
  if (name === 'KEYSMITH_LICENSE_SIGNING_KEY') {
    // Also the license API's: without it, its answers carry no license file (apps cannot work offline).
    return usesSigned
      ? ['fail', `${name} not set ${where}: the catalog has signed-license products`]
      : ['warn', `${name} not set ${where}: the license API answers without a license_file, so apps cannot work offline (\`keysmith keys generate\`)`];
  }
  const optional = secretSpec(name)?.optionalBecause;
  if (optional) return ['skip', `${name} not set (n/a: ${optional})`];
  return ['warn', `${name} not set ${where}: ${SECRET_PROVIDER[name]} webhooks are refused (fine if you do not sell there)`];
}

async function localChecks(t: Target, add: Add): Promise<void> {
  const info = t.local!;
  await guarded(add, 'dynamodb', async () => {
    const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    const table = await t.dynamodb.send(new DescribeTableCommand({ TableName: t.tableName }));
    add('dynamodb', 'ok', `table ${t.tableName} ${table.Table?.TableStatus?.toLowerCase() ?? 'present'} (${info.endpoints.dynamodb})`);
  });
  await guarded(add, 'ses', async () => {
    const response = await fetch(`${info.endpoints.ses}/store`, { signal: AbortSignal.timeout(3000) });
    add('ses', response.ok ? 'ok' : 'fail', response.ok ? `SES emulator answers (${info.inboxUrl ?? info.endpoints.ses})` : `SES emulator answered ${response.status}`);
  });
  add('ses identity', 'skip', 'n/a (local): the SES emulator accepts any sender');
  add('ses sandbox', 'skip', 'n/a (local)');
  add('alarms', 'skip', 'n/a (local): `keysmith doctor --stack NAME` checks the deployed alarms');
}

async function awsChecks(t: Target, add: Add): Promise<void> {
  await guarded(add, 'stack', async () => {
    const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
    const stack = (await (await t.cloudFormation()).send(new DescribeStacksCommand({ StackName: t.stackName }))).Stacks?.[0];
    const status = stack?.StackStatus ?? 'UNKNOWN';
    const verdict: Verdict = /_COMPLETE$/.test(status) && !/ROLLBACK|DELETE/.test(status) ? 'ok' : /IN_PROGRESS$/.test(status) ? 'warn' : 'fail';
    add('stack', verdict, `${t.stackName}: ${status}`);
  });
  await sesAccountChecks(t, add);
  await guarded(add, 'alarms', () => alarms(t, add));
}

/** The stack's alarms exist (CloudFormation knows them) and their topic has a confirmed subscriber. */
async function alarms(t: Target, add: Add): Promise<void> {
  const { DescribeStackResourcesCommand } = await import('@aws-sdk/client-cloudformation');
  const resources = (await (await t.cloudFormation()).send(new DescribeStackResourcesCommand({ StackName: t.stackName }))).StackResources ?? [];
  const found = resources.filter((r) => r.ResourceType === 'AWS::CloudWatch::Alarm');
  const broken = found.filter((r) => !/_COMPLETE$/.test(r.ResourceStatus ?? '') || /DELETE|FAILED/.test(r.ResourceStatus ?? ''));
  if (found.length === 0) add('alarms', 'fail', 'the stack has no CloudWatch alarm (expected the DLQ alarm)');
  else if (broken.length > 0) add('alarms', 'fail', `${broken.map((r) => `${r.LogicalResourceId} ${r.ResourceStatus}`).join(', ')}`);
  else add('alarms', 'ok', `${found.length} alarm(s): ${found.map((r) => r.LogicalResourceId).join(', ')}`);

  if (!t.alarmTopicArn) {
    add('alarm topic', 'fail', 'the stack has no AlarmTopicArn output');
    return;
  }
  const { ListSubscriptionsByTopicCommand } = await import('@aws-sdk/client-sns');
  const sns = await t.sns();
  const subscriptions = [];
  let token: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t.alarmTopicArn, NextToken: token }));
    subscriptions.push(...(page.Subscriptions ?? []));
    token = page.NextToken;
  } while (token);
  const confirmed = subscriptions.filter((s) => s.SubscriptionArn?.startsWith('arn:'));
  const pending = subscriptions.length - confirmed.length;
  if (confirmed.length > 0)
    add('alarm topic', 'ok', `${confirmed.length} confirmed subscription(s) (${[...new Set(confirmed.map((s) => s.Protocol))].join(', ')})${pending ? `, ${pending} pending` : ''}`);
  else if (pending > 0) add('alarm topic', 'warn', `${pending} subscription(s) waiting for confirmation: click the link in the email AWS sent`);
  else add('alarm topic', 'fail', `nobody is told when an alarm fires: subscribe to ${t.alarmTopicArn} (aws sns subscribe --protocol email …)`);
}
