import { Template } from 'aws-cdk-lib/assertions';
import { SECRET_NAMES, SECRETS, WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import { capitalize } from '../../lib/constructs/KeysmithStore';
import { INGRESS_TABLE_ACTIONS, KeysmithStack, LICENSING_TABLE_ACTIONS, WORKER_TABLE_ACTIONS } from '../../lib/keysmith-stack';
import { appWithoutBundling, exampleCatalog, flatten, useProjectTmpdir } from './support';

useProjectTmpdir();

type Resource = { Type: string; Properties: Record<string, any> };
type Grant = { actions: string[]; resources: string[]; condition?: unknown };
const functionsOf = (t: Template) => t.findResources('AWS::Lambda::Function') as Record<string, Resource>;

/**
 * Every role's inline policy, as `{ actions, resources }` per statement with `Ref`/`GetAtt`
 * flattened to `${LogicalId}` / `${LogicalId.Arn}`: the exact list docs/security.md describes.
 */
describe('least privilege: each function may call exactly what its code calls', () => {
  let stack: KeysmithStack;
  let template: Template;
  beforeAll(() => {
    stack = new KeysmithStack(appWithoutBundling(), 'Keysmith', { catalog: exampleCatalog() });
    template = Template.fromStack(stack);
  });
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  const grantsOf = (fn: { role?: { node: { defaultChild?: unknown } } }): Grant[] => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(fn.role!) }] } })) as Resource[];
    return policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as any[])
      .map((s) => {
        expect(s.Effect).toBe('Allow');
        return { actions: [s.Action].flat().sort(), resources: [s.Resource].flat().map(flatten).sort(), ...(s.Condition ? { condition: s.Condition } : {}) };
      })
      .sort((a, b) => a.actions[0]!.localeCompare(b.actions[0]!));
  };
  const table = () => `\${${id(stack.table)}.Arn}`;
  const licenseSecret = () => `\${${id(stack.secret)}}`;

  it.each(WEBHOOK_PROVIDERS.map((p) => [p.name]))(
    'ingress %s: BatchWriteItem on its partitions of the table (never an order), SendMessage on the queue, its own secret and the license secret',
    (name) => {
      const fn = stack.ingressFunctions.get(name)!;
      expect(grantsOf(fn)).toEqual([
        { actions: ['dynamodb:BatchWriteItem'], resources: [table()], condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DLV#*', 'KEY#*', 'LIC#*', 'SUB#*'] } } },
        { actions: ['secretsmanager:GetSecretValue'], resources: [`\${${id(stack.providerSecrets.get(name)!)}}`] },
        { actions: ['secretsmanager:GetSecretValue'], resources: [licenseSecret()] },
        { actions: ['sqs:SendMessage'], resources: [`\${${id(stack.queue)}.Arn}`] },
      ]);
      // What the light client calls (functions/aws/deliveryLog.ts): one BatchWriteItem.
      expect(INGRESS_TABLE_ACTIONS).toEqual(['dynamodb:BatchWriteItem']);
    },
  );

  it('licensing: Query and UpdateItem on the license partitions only (KEY#…, LIC#…), and the license secret', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(stack.licensing.role!) }] } })) as Resource[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
    const table = statements.find((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect([table.Action].flat().sort()).toEqual([...LICENSING_TABLE_ACTIONS].sort());
    expect([table.Resource].flat().map(flatten)).toEqual([`\${${id(stack.table)}.Arn}`]);
    // An app's request can never reach an order, a delivery or an event record.
    expect(table.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['KEY#*', 'LIC#*'] } });
    const others = statements.filter((s) => s !== table);
    expect(others.map((s) => [[s.Action].flat(), [s.Resource].flat().map(flatten)])).toEqual([[['secretsmanager:GetSecretValue'], [licenseSecret()]]]);
    for (const name of SECRET_NAMES) expect(JSON.stringify(functionsOf(template)[id(stack.licensing)]!.Properties.Environment)).not.toContain(name);
  });

  it("no ingress can read another provider's secret, query, scan, update, delete or touch an index", () => {
    const all = [...stack.ingressFunctions.values()].flatMap((fn) => grantsOf(fn));
    const actions = all.flatMap((g) => g.actions);
    for (const forbidden of ['dynamodb:Scan', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'secretsmanager:DescribeSecret'])
      expect(actions).not.toContain(forbidden);
    expect(JSON.stringify(all.map((g) => [g.actions, g.resources]))).not.toMatch(/index|\*/);
    for (const [name, fn] of stack.ingressFunctions) {
      const secrets = grantsOf(fn)
        .filter((g) => g.actions[0]!.startsWith('secretsmanager:'))
        .flatMap((g) => g.resources);
      const others = [...stack.providerSecrets].filter(([p]) => p !== name).map(([, s]) => `\${${id(s)}}`);
      for (const other of others) expect(secrets).not.toContain(other);
    }
  });

  it('worker: its table actions on the table itself (no index), the license secret only, its queue, and mail as the sender', () => {
    const grants = grantsOf(stack.worker);
    expect(grants).toEqual([
      { actions: [...WORKER_TABLE_ACTIONS].sort(), resources: [table()] },
      { actions: ['secretsmanager:GetSecretValue'], resources: [licenseSecret()] },
      { actions: ['ses:SendEmail', 'ses:SendRawEmail'], resources: expect.any(Array) },
      { actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], resources: [`\${${id(stack.queue)}.Arn}`] },
    ]);
    expect([...WORKER_TABLE_ACTIONS].sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  it('feedback: the table actions of the worker (it records through processEvent), SendMessage to its failure queue; no secret, no event queue', () => {
    expect(grantsOf(stack.feedback)).toEqual([
      { actions: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], resources: [table()] },
      { actions: ['sqs:SendMessage'], resources: [`\${${id(stack.feedbackFailureQueue)}.Arn}`] },
    ]);
  });

  it('gives each ingress the ARNs of its own secret and the license secret, never a value', () => {
    const fns = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
    for (const [name, fn] of stack.ingressFunctions) {
      const env = fns[id(fn)]!.Properties.Environment.Variables;
      expect(env.KEYSMITH_SECRET_ARN).toEqual({ Ref: id(stack.secret) });
      expect(env.KEYSMITH_PROVIDER_SECRET_ARN).toEqual({ Ref: id(stack.providerSecrets.get(name)!) });
    }
    expect(fns[id(stack.worker)]!.Properties.Environment.Variables).not.toHaveProperty('KEYSMITH_PROVIDER_SECRET_ARN');
  });

  it('has a secret for every provider that owns a secret name, and an output for each', () => {
    const owners = new Set(SECRETS.map((s) => s.owner).filter((o) => o !== 'license'));
    expect([...stack.providerSecrets.keys()].sort()).toEqual([...owners].sort());
    for (const [name, secret] of stack.providerSecrets) {
      template.hasOutput(`SecretArn${capitalize(name)}`, { Value: { Ref: id(secret) } });
    }
    template.hasOutput('SecretArn', { Value: { Ref: id(stack.secret) } });
  });
});
