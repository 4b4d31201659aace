import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LICENSING_ROUTES, LICENSING_THROTTLE } from '../../functions/licensing/routes';
import { SECRET_NAMES, WEBHOOK_PROVIDERS, type WebhookRegistration } from '../../functions/providers/registry';
import { FUNCTIONS, QUEUE, TABLE } from '../../functions/settings';
import { KeysmithStack } from '../../lib/keysmith-stack';
import { appWithoutBundling, exampleCatalog, flatten, useProjectTmpdir } from './support';

useProjectTmpdir();

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };

describe('KeysmithStack', () => {
  let stack: KeysmithStack;
  let template: Template;

  beforeAll(() => {
    // Prepare
    const app = appWithoutBundling();
    // Act
    stack = new KeysmithStack(app, 'Keysmith', { catalog: exampleCatalog() });
    template = Template.fromStack(stack);
  });

  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  const functions = () => template.findResources('AWS::Lambda::Function') as Record<string, Resource>;

  describe('queue', () => {
    it('is a high-throughput FIFO queue with our dedupe ids, encrypted, redriving to the DLQ', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: Match.stringLikeRegexp('\\.fifo$'),
        FifoQueue: true,
        ContentBasedDeduplication: false,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        SqsManagedSseEnabled: true,
        VisibilityTimeout: QUEUE.visibilityTimeoutSeconds,
        MessageRetentionPeriod: QUEUE.retentionSeconds,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.deadLetterQueue), 'Arn'] },
          maxReceiveCount: QUEUE.maxReceiveCount,
        },
      });
    });

    it('has a FIFO DLQ, encrypted, keeping messages 14 days', () => {
      const dlq = template.findResources('AWS::SQS::Queue')[logicalId(stack.deadLetterQueue)] as Resource;
      expect(dlq.Properties).toEqual(expect.objectContaining({ FifoQueue: true, SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600, QueueName: expect.stringMatching(/\.fifo$/) }));
    });

    it('denies every non-TLS request on both queues', () => {
      for (const queue of [stack.queue, stack.deadLetterQueue]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: logicalId(queue) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Principal: { AWS: '*' },
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                Resource: { 'Fn::GetAtt': [logicalId(queue), 'Arn'] },
              }),
            ]),
          },
        });
      }
    });

    it('keeps messages invisible for at least 6 × the worker timeout', () => {
      const queue = template.findResources('AWS::SQS::Queue')[logicalId(stack.queue)] as Resource;
      const worker = functions()[logicalId(stack.worker)]!;
      expect(worker.Properties.Timeout).toBe(FUNCTIONS.worker.timeoutSeconds);
      expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * worker.Properties.Timeout);
    });
  });

  describe('worker', () => {
    it('consumes the queue in batches and reports per-message failures', () => {
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.queue), 'Arn'] },
        FunctionName: { Ref: logicalId(stack.worker) },
        BatchSize: QUEUE.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: QUEUE.maxConcurrency },
      });
    });

    it('may send mail only as the configured sender (domain or address identity) with its configuration set, and only the worker may', () => {
      const policies = template.findResources('AWS::IAM::Policy') as Record<string, Resource>;
      const sesStatements = Object.entries(policies).flatMap(([id, policy]) =>
        (policy.Properties.PolicyDocument.Statement as any[]).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('ses:'))).map((s) => ({ id, statement: s })),
      );
      expect(sesStatements).toHaveLength(1);
      const [{ id, statement }] = sesStatements as [{ id: string; statement: any }];
      expect(policies[id]!.Properties.Roles).toEqual([{ Ref: stack.getLogicalId(stack.worker.role!.node.defaultChild as never) }]);
      expect([statement.Action].flat().sort()).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
      const resources = [statement.Resource].flat().map(flatten).sort();
      expect(resources).toEqual([
        `arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:configuration-set/\${${logicalId(stack.sesConfigurationSet as never)}}`,
        'arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/example.com',
        'arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/licenses@example.com',
      ]);
      expect(resources).not.toContain('*');
    });

    it('can read and write the table and read the secret', () => {
      const policy = template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: stack.getLogicalId(stack.worker.role!.node.defaultChild as never) }] },
      });
      const statements = Object.values(policy).flatMap((p: any) => p.Properties.PolicyDocument.Statement as any[]);
      const actionsOn = (ref: string) => statements.filter((s) => JSON.stringify(s.Resource).includes(ref)).flatMap((s) => [s.Action].flat());
      expect(actionsOn(logicalId(stack.table))).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:BatchWriteItem']));
      expect(actionsOn(logicalId(stack.secret))).toContain('secretsmanager:GetSecretValue');
      expect(actionsOn(logicalId(stack.queue))).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']));
    });
  });

  describe('license API', () => {
    it('is an HTTP API of its own, throttled on its own, with the three POST routes to the licensing function, and the LicensingUrl output', () => {
      const apis = template.findResources('AWS::ApiGatewayV2::Api');
      const licensingApi = stack.getLogicalId(stack.licensingApi.node.defaultChild as never);
      expect(Object.keys(apis)).toContain(licensingApi);
      for (const path of LICENSING_ROUTES) template.hasResourceProperties('AWS::ApiGatewayV2::Route', { ApiId: { Ref: licensingApi }, RouteKey: `POST ${path}` });
      const stages = template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { ApiId: { Ref: licensingApi } } }) as Record<string, any>;
      expect(Object.values(stages).map((st) => st.Properties.DefaultRouteSettings)).toEqual([
        { ThrottlingBurstLimit: LICENSING_THROTTLE.burstLimit, ThrottlingRateLimit: LICENSING_THROTTLE.rateLimit },
      ]);
      template.hasOutput('LicensingUrl', { Value: { 'Fn::GetAtt': [licensingApi, 'ApiEndpoint'] } });
      const fn = (template.findResources('AWS::Lambda::Function') as Record<string, any>)[stack.getLogicalId(stack.licensing.node.defaultChild as never)]!;
      expect(fn.Properties).toEqual(expect.objectContaining({ Timeout: FUNCTIONS.licensing.timeoutSeconds, MemorySize: FUNCTIONS.licensing.memoryMb }));
      expect(fn.Properties.Environment.Variables.KEYSMITH_SECRET_ARN).toEqual({ Ref: stack.getLogicalId(stack.secret.node.defaultChild as never) });
    });
  });

  describe('functions', () => {
    it('are all arm64 on nodejs24.x with the shared timeout and memory', () => {
      const all = Object.values(functions());
      expect(all).toHaveLength(3 + WEBHOOK_PROVIDERS.length); // worker, feedback, licensing, one ingress each
      for (const fn of all) {
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        expect(fn.Properties.Runtime).toBe('nodejs24.x');
      }
      for (const fn of stack.ingressFunctions.values()) {
        expect(functions()[logicalId(fn)]!.Properties).toEqual(expect.objectContaining({ Timeout: FUNCTIONS.ingress.timeoutSeconds, MemorySize: FUNCTIONS.ingress.memoryMb }));
      }
      expect(functions()[logicalId(stack.worker)]!.Properties.MemorySize).toBe(FUNCTIONS.worker.memoryMb);
    });

    it('get the secret ARN, table and queue by reference, and no secret value', () => {
      for (const fn of [stack.worker, ...stack.ingressFunctions.values()].map((f) => functions()[logicalId(f)]!)) {
        const env = fn.Properties.Environment.Variables as Record<string, unknown>;
        expect(env.KEYSMITH_SECRET_ARN).toEqual({ Ref: logicalId(stack.secret) });
        expect(env.KEYSMITH_TABLE_NAME).toEqual({ Ref: logicalId(stack.table) });
        expect(env.KEYSMITH_QUEUE_URL).toEqual({ Ref: logicalId(stack.queue) });
        for (const name of SECRET_NAMES) expect(env).not.toHaveProperty(name);
        expect(JSON.stringify(env)).not.toMatch(/resolve:secretsmanager|SecretString|KEYSMITH_LICENSE_SECRET/);
        // Source maps are off, so Node must not be told to look for them.
        expect(env).not.toHaveProperty('NODE_OPTIONS');
      }
    });

    it('the feedback function gets the table only: no secret, no queue', () => {
      const env = functions()[logicalId(stack.feedback)]!.Properties.Environment.Variables as Record<string, unknown>;
      expect(env).toEqual({ KEYSMITH_TABLE_NAME: { Ref: logicalId(stack.table) }, KEYSMITH_LOG_LEVEL: 'info', KEYSMITH_SERVICE: 'Keysmith' });
    });

    it('log to their own log group with a bounded retention', () => {
      for (const fn of Object.values(functions())) {
        const ref = fn.Properties.LoggingConfig.LogGroup.Ref as string;
        const group = template.findResources('AWS::Logs::LogGroup')[ref] as Resource;
        expect(group.Properties.RetentionInDays).toBe(90);
      }
    });
  });

  describe('api', () => {
    it.each(WEBHOOK_PROVIDERS.flatMap((p) => p.routes.map((r) => [`${r.method} ${r.path}`, p] as const)))('routes %s to the provider ingress with payload format 2.0', (routeKey, provider) => {
      const fnId = logicalId(stack.ingressFunctions.get(provider.name)!);
      const integrations = template.findResources('AWS::ApiGatewayV2::Integration', {
        Properties: { IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] }, IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' },
      });
      expect(Object.keys(integrations)).toHaveLength(1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: Object.keys(integrations)[0] }]] },
      });
    });

    it('has the fastspring webhook route', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhooks/fastspring' });
    });

    it('logs access by route key (never the raw path) and throttles the default stage', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('\\$context\\.routeKey') },
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      });
      const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as Resource;
      expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/\$context\.path/);
    });
  });

  describe('table', () => {
    it('is on-demand, PITR, deletion-protected, AWS-managed encryption, TTL and both GSIs', () => {
      const gsi = (index: { name: string; partitionKey: string; sortKey: string }) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      });
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [gsi(TABLE.emailIndex), gsi(TABLE.orderIndex), gsi(TABLE.deliveryIndex)],
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true })],
      });
    });

    it('is retained when the stack is deleted or the table replaced', () => {
      template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });
  });

  describe('secret', () => {
    it('is one retained license secret with a generated license secret and nothing else filled in, plus an empty secret per provider', () => {
      template.resourceCountIs('AWS::SecretsManager::Secret', 1 + WEBHOOK_PROVIDERS.length);
      const secrets = template.findResources('AWS::SecretsManager::Secret') as Record<string, Resource>;
      const generated = Object.entries(secrets).filter(([, r]) => r.Properties.GenerateSecretString);
      expect(generated.map(([id]) => id)).toEqual([logicalId(stack.secret)]);
      template.hasResource('AWS::SecretsManager::Secret', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{}', GenerateStringKey: 'KEYSMITH_LICENSE_SECRET' }),
          SecretString: Match.absent(),
        },
      });
      for (const provider of WEBHOOK_PROVIDERS) {
        const secret = secrets[logicalId(stack.providerSecrets.get(provider.name)!)]!;
        // Only an empty JSON object in the template; the values are set with `keysmith secrets set`.
        expect(secret.Properties.SecretString).toBe('{}');
        expect(secret.Properties.Description).toContain(`${provider.name} webhook secrets`);
      }
    });
  });

  describe('alarm', () => {
    it('fires to the alarm topic as soon as the DLQ holds a message', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.deadLetterQueue), 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        Period: 60,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
      });
    });

    it('subscribes alarmEmail when given', () => {
      const withEmail = new KeysmithStack(appWithoutBundling(), 'WithEmail', { catalog: exampleCatalog(), alarmEmail: 'ops@example.com' });
      Template.fromStack(withEmail).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
      expect(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } })).toEqual({});
    });
  });

  describe('outputs', () => {
    it('has the stable names the CLI reads', () => {
      const names = Object.keys(template.findOutputs('*'));
      expect(names).toEqual(expect.arrayContaining(['ApiUrl', 'QueueUrl', 'DlqUrl', 'TableName', 'SecretArn', 'WorkerFunctionName', 'WebhookUrlFastspring']));
      template.hasOutput('WebhookUrlFastspring', { Value: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.api), 'ApiEndpoint'] }, '/webhooks/fastspring']] } });
      template.hasOutput('QueueUrl', { Value: { Ref: logicalId(stack.queue) } });
      template.hasOutput('DlqUrl', { Value: { Ref: logicalId(stack.deadLetterQueue) } });
      template.hasOutput('WorkerFunctionName', { Value: { Ref: logicalId(stack.worker) } });
    });
  });

  describe('providers', () => {
    // Reuses the first real registration (its entry must exist): the point is the wiring.
    const fake = (name: WebhookRegistration['name'], routes: WebhookRegistration['routes']): WebhookRegistration => ({
      ...WEBHOOK_PROVIDERS[0]!,
      name,
      routes,
    });

    it('builds one ingress function, its routes and its webhook output per registered provider', () => {
      const providers = [
        fake('fastspring', [{ method: 'POST', path: '/webhooks/fastspring' }]),
        fake('paddle', [
          { method: 'POST', path: '/webhooks/paddle' },
          { method: 'GET', path: '/webhooks/paddle' },
        ]),
      ];
      const multi = new KeysmithStack(appWithoutBundling(), 'Multi', { catalog: exampleCatalog(), providers });
      const t = Template.fromStack(multi);
      t.resourceCountIs('AWS::Lambda::Function', 5); // + worker, feedback and licensing
      t.resourceCountIs('AWS::ApiGatewayV2::Route', 3 + 3); // + the license API's three
      t.resourceCountIs('AWS::ApiGatewayV2::Integration', 2 + 1);
      for (const key of ['POST /webhooks/fastspring', 'POST /webhooks/paddle', 'GET /webhooks/paddle']) {
        t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key });
      }
      expect([...multi.ingressFunctions.keys()]).toEqual(['fastspring', 'paddle']);
      expect(Object.keys(t.findOutputs('*'))).toEqual(expect.arrayContaining(['WebhookUrlFastspring', 'WebhookUrlPaddle']));
    });

    it('refuses a route registered twice', () => {
      const providers = [fake('fastspring', [{ method: 'POST', path: '/webhooks/x' }]), fake('paddle', [{ method: 'POST', path: '/webhooks/x' }])];
      expect(() => new KeysmithStack(appWithoutBundling(), 'Dup', { catalog: exampleCatalog(), providers })).toThrow('route POST /webhooks/x is registered twice');
    });
  });

  it('falls back to a CloudFormation-generated queue name when the stack name is too long', () => {
    const longName = 'K'.repeat(70);
    const long = new KeysmithStack(appWithoutBundling(), longName, { catalog: exampleCatalog() });
    const all = Template.fromStack(long).findResources('AWS::SQS::Queue') as Record<string, Resource>;
    const queues = [long.queue, long.deadLetterQueue].map((q) => all[long.getLogicalId(q.node.defaultChild as never)]!);
    expect(queues.map((q) => q.Properties.QueueName)).toEqual([undefined, undefined]);
    expect(queues.every((q) => q.Properties.FifoQueue === true)).toBe(true);
    expect(Stack.of(long).stackName).toBe(longName);
  });
});
