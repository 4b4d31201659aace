import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { METRIC, METRICS_NAMESPACE } from '../../functions/log/metrics';
import { WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import { buildKeysmithApp, DEFAULT_REJECTION_ALARM_THRESHOLD, KeysmithStack } from '../../lib/keysmith-stack';
import { appWithoutBundling, EXAMPLE_CONFIG, exampleCatalog, flatten, useProjectTmpdir } from './support';

/** A metric id in a math expression: letters, digits and `_` (`paddle-billing` → `paddle_billing`). */
const metricId = (provider: string) => provider.replace(/-/g, '_');

useProjectTmpdir();

type Resource = { Type: string; Properties: Record<string, any> };

describe('KeysmithStack observability', () => {
  let stack: KeysmithStack;
  let template: Template;

  beforeAll(() => {
    stack = new KeysmithStack(appWithoutBundling(), 'Keysmith', { catalog: exampleCatalog() });
    template = Template.fromStack(stack);
  });

  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  const alarm = (construct: { node: { defaultChild?: unknown } }) => (template.findResources('AWS::CloudWatch::Alarm')[logicalId(construct)] as Resource).Properties;
  const topicRef = () => ({ Ref: logicalId(stack.alarmTopic) });

  describe('alarms', () => {
    it('every alarm notifies the alarm topic and treats missing data as good news', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
      expect(alarms).toHaveLength(Object.keys(stack.alarms).length);
      expect(Object.keys(stack.alarms)).toHaveLength(10);
      for (const a of alarms) {
        expect(a.Properties.AlarmActions).toEqual([topicRef()]);
        expect(a.Properties.TreatMissingData).toBe('notBreaching');
        expect(a.Properties.ComparisonOperator).toBe('GreaterThanThreshold');
        expect(a.Properties.AlarmDescription).toMatch(/^keysmith: /);
      }
      expect(stack.dlqAlarm).toBe(stack.alarms.deadLetterQueue);
    });

    it('DLQ: fires when its oldest message is older than an hour', () => {
      expect(alarm(stack.alarms.deadLetterQueueAge)).toEqual(
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.deadLetterQueue), 'QueueName'] } }],
          Statistic: 'Maximum',
          Threshold: 3600,
        }),
      );
    });

    it.each([
      ['worker', () => stack.alarms.workerErrors, () => stack.worker],
      ['feedback', () => stack.alarms.feedbackErrors, () => stack.feedback],
    ])('%s errors: any Lambda error in 5 minutes', (_name, pick, fn) => {
      expect(alarm(pick())).toEqual(
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn()) } }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 0,
        }),
      );
    });

    it("ingress errors: the sum of every ingress function's errors", () => {
      const props = alarm(stack.alarms.ingressErrors);
      expect(props.Threshold).toBe(0);
      const [expression, ...inputs] = props.Metrics as any[];
      expect(expression).toEqual(expect.objectContaining({ Expression: `SUM([${WEBHOOK_PROVIDERS.map((p) => metricId(p.name)).join(',')}])`, ReturnData: true }));
      expect(inputs.map((m) => m.MetricStat.Metric)).toEqual(
        WEBHOOK_PROVIDERS.map((p) => ({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.ingressFunctions.get(p.name)!) } }] })),
      );
      expect(inputs.every((m) => m.ReturnData === false && m.MetricStat.Stat === 'Sum' && m.MetricStat.Period === 300)).toBe(true);
    });

    it('API: any 5xx of the HTTP API (metric `5xx`, dimension ApiId)', () => {
      expect(alarm(stack.alarms.apiServerErrors)).toEqual(
        expect.objectContaining({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Dimensions: [{ Name: 'ApiId', Value: { Ref: logicalId(stack.api) } }], Statistic: 'Sum', Threshold: 0 }),
      );
    });

    it(`rejection spike: keysmith's Rejected over every provider (its [Service] total), above ${DEFAULT_REJECTION_ALARM_THRESHOLD} in 5 minutes`, () => {
      expect(alarm(stack.alarms.rejections)).toEqual(
        expect.objectContaining({
          Namespace: METRICS_NAMESPACE,
          MetricName: METRIC.rejected,
          Dimensions: [{ Name: 'Service', Value: 'Keysmith' }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: DEFAULT_REJECTION_ALARM_THRESHOLD,
        }),
      );
    });

    it('takes any number of webhook providers: ingress errors ten per alarm, every alarm within CloudWatch’s 10 metrics', () => {
      const base = WEBHOOK_PROVIDERS.find((p) => p.name === 'stripe')!;
      const extra = Array.from({ length: 13 }, (_v, i) => ({ ...base, name: `acme${i + 1}`, title: `Acme ${i + 1}`, routes: [{ method: 'POST' as const, path: `/webhooks/acme${i + 1}` }] }));
      const providers = [...WEBHOOK_PROVIDERS, ...extra];
      const big = new KeysmithStack(appWithoutBundling(), 'Big', { catalog: exampleCatalog(), providers });
      const alarms = Template.fromStack(big).findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>;
      const id = (c: { node: { defaultChild?: unknown } }) => big.getLogicalId(c.node.defaultChild as never);
      for (const a of Object.values(alarms)) expect(((a.Properties.Metrics as unknown[] | undefined) ?? []).filter((m: any) => m.MetricStat).length).toBeLessThanOrEqual(10);
      const groups = [big.alarms.ingressErrors, ...(big.alarms.moreIngressErrors ?? [])];
      expect(groups).toHaveLength(Math.ceil(providers.length / 10));
      const watched = groups.flatMap((g) => (alarms[id(g)]!.Properties.Metrics as any[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.Dimensions[0].Value.Ref));
      expect(watched.sort()).toEqual(providers.map((p) => id(big.ingressFunctions.get(p.name)!)).sort());
      // Every alarm, the groups included, may publish to the topic.
      const policy = Object.values(Template.fromStack(big).findResources('AWS::SNS::TopicPolicy'))
        .flatMap((r: any) => r.Properties.PolicyDocument.Statement)
        .find((s: any) => s.Sid === 'AllowThisStacksAlarmsToPublish');
      expect(policy.Condition.ArnLike['aws:SourceArn']).toHaveLength(Object.keys(alarms).length);
    });

    it('takes the rejection threshold from props', () => {
      const custom = new KeysmithStack(appWithoutBundling(), 'Custom', { catalog: exampleCatalog(), rejectionAlarmThreshold: 7 });
      const props = (Template.fromStack(custom).findResources('AWS::CloudWatch::Alarm')[custom.getLogicalId(custom.alarms.rejections.node.defaultChild as never)] as Resource).Properties;
      expect(props.Threshold).toBe(7);
      expect(() => new KeysmithStack(appWithoutBundling(), 'Bad', { catalog: exampleCatalog(), rejectionAlarmThreshold: -1 })).toThrow(/rejectionAlarmThreshold/);
    });

    it('every function publishes its metrics under Service = the stack name', () => {
      for (const fn of [stack.worker, stack.feedback, ...stack.ingressFunctions.values()]) {
        const props = (template.findResources('AWS::Lambda::Function')[logicalId(fn)] as Resource).Properties;
        expect(props.Environment.Variables.KEYSMITH_SERVICE).toBe('Keysmith');
      }
    });
  });

  describe('alarm topic', () => {
    it('refuses publishing without TLS', () => {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [topicRef()],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    });

    it("lets CloudWatch publish, for this account and exactly this stack's alarms (enforceSSL alone would leave a lone Deny)", () => {
      const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [topicRef()] } })) as Resource[];
      expect(policies).toHaveLength(1);
      const statements = policies[0]!.Properties.PolicyDocument.Statement as any[];
      const allows = statements.filter((s) => s.Effect === 'Allow');
      expect(allows).toEqual([
        {
          Sid: 'AllowThisStacksAlarmsToPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: topicRef(),
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': Object.values(stack.alarms).map((a) => ({ 'Fn::GetAtt': [logicalId(a), 'Arn'] })) },
          },
        },
      ]);
      // Every alarm that notifies the topic is one the policy lets publish.
      const notifying = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([, a]) => JSON.stringify((a as Resource).Properties.AlarmActions) === JSON.stringify([topicRef()]));
      expect(notifying.map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] })).sort((a, b) => a['Fn::GetAtt'][0]!.localeCompare(b['Fn::GetAtt'][0]!))).toEqual(
        [...allows[0].Condition.ArnLike['aws:SourceArn']].sort((a: any, b: any) => a['Fn::GetAtt'][0].localeCompare(b['Fn::GetAtt'][0])),
      );
    });

    const emailSubscriptions = (t: Template) => Object.values(t.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } })) as Resource[];

    it('has no email subscription unless one is configured', () => {
      expect(emailSubscriptions(template)).toEqual([]);
      template.hasOutput('AlarmTopicArn', { Value: topicRef() });
    });

    it.each([
      ['context alarmEmail', { alarmEmail: 'ops@example.com' }, {}],
      ['env KEYSMITH_ALARM_EMAIL', {}, { KEYSMITH_ALARM_EMAIL: 'ops@example.com' }],
    ])('subscribes the address from %s', (_how, context, env) => {
      const previous = process.env.KEYSMITH_ALARM_EMAIL;
      Object.assign(process.env, env);
      try {
        const built = buildKeysmithApp(appWithoutBundling(context), { configPath: EXAMPLE_CONFIG, nag: false });
        const subscriptions = emailSubscriptions(Template.fromStack(built));
        expect(subscriptions).toHaveLength(1);
        expect(subscriptions[0]!.Properties).toEqual(expect.objectContaining({ Endpoint: 'ops@example.com', TopicArn: { Ref: built.getLogicalId(built.alarmTopic.node.defaultChild as never) } }));
      } finally {
        if (previous === undefined) delete process.env.KEYSMITH_ALARM_EMAIL;
        else process.env.KEYSMITH_ALARM_EMAIL = previous;
      }
    });

    it('refuses an alarm email that is not an address', () => {
      expect(() => buildKeysmithApp(appWithoutBundling({ alarmEmail: 'ops-at-example' }), { configPath: EXAMPLE_CONFIG, nag: false })).toThrow(/alarmEmail .*must be an email address/);
    });
  });

  describe('dashboard', () => {
    let body: any;
    beforeAll(() => {
      const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
      expect(dashboards).toHaveLength(1);
      body = JSON.parse(flatten(dashboards[0]!.Properties.DashboardBody));
    });
    const widgets = () => body.widgets as { type: string; properties: any }[];
    const graph = (title: RegExp) => {
      const found = widgets().find((w) => w.type === 'metric' && title.test(w.properties.title));
      if (!found) throw new Error(`no graph titled ${title}`);
      return found.properties as { metrics: any[][] };
    };
    /** `[namespace, name, dim, value, …, {options}]` rows, options dropped; `...` rows repeat the previous namespace. */
    const series = (title: RegExp) => graph(title).metrics.map((row) => row.filter((cell) => typeof cell === 'string'));

    it('is named after the stack and region', () => {
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: { 'Fn::Join': ['', ['Keysmith-', { Ref: 'AWS::Region' }]] } });
      template.hasOutput('DashboardName', { Value: { Ref: logicalId(stack.dashboard as never) } });
    });

    it('shows the status of every alarm', () => {
      const status = widgets().find((w) => w.type === 'alarm')!;
      expect(status.properties.alarms).toEqual(Object.values(stack.alarms).map((a) => `\${${logicalId(a)}.Arn}`));
    });

    it.each([
      [/^Webhooks received/, METRIC.received],
      [/^Webhooks rejected/, METRIC.rejected],
      [/^Events enqueued/, METRIC.enqueued],
      [/^Events enqueued/, METRIC.enqueueFailed],
      [/^Ingress latency/, METRIC.ingressLatency],
      [/^Licenses issued/, METRIC.licensesIssued],
      [/^Licenses issued/, METRIC.licensesRevoked],
      [/^Emails sent/, METRIC.emailsSent],
      [/^Emails sent/, METRIC.emailsFailed],
      [/^Emails sent/, METRIC.emailsBounced],
      [/^Emails sent/, METRIC.emailsComplained],
      [/^Processing latency/, METRIC.processingLatency],
      [/worker retries/, METRIC.eventsFailed],
    ])('graph %s has %s for every provider of this stack', (title, name) => {
      // Latency graphs list each provider twice (p50, p99): compare the distinct series.
      const rows = [
        ...new Set(
          series(title)
            .filter((row) => row[0] === METRICS_NAMESPACE && row[1] === name)
            .map((row) => JSON.stringify(row)),
        ),
      ].map((row) => JSON.parse(row));
      expect(rows).toEqual(WEBHOOK_PROVIDERS.map((p) => [METRICS_NAMESPACE, name, 'Provider', p.name, 'Service', 'Keysmith']));
    });

    it('shows latency as p50 and p99', () => {
      for (const title of [/^Ingress latency/, /^Processing latency/]) {
        const stats = graph(title).metrics.map((row) => (row.at(-1) as { stat: string }).stat);
        expect(new Set(stats)).toEqual(new Set(['p50', 'p99']));
      }
    });

    it('breaks rejections down by reason with a search over this stack only', () => {
      const [[search]] = graph(/^Rejections by reason/).metrics as [[{ expression: string }]];
      expect(search.expression).toBe(`SEARCH('{Keysmith,Provider,Reason,Service} MetricName="Rejected" Service="Keysmith"', 'Sum', 300)`);
    });

    it('shows the API requests, 4xx and 5xx', () => {
      const names = series(/^API requests/).map((row) => row[1]);
      expect(names).toEqual(['Count', '4xx', '5xx']);
      expect(series(/^API requests/).every((row) => row[0] === 'AWS/ApiGateway' && row[3] === `\${${logicalId(stack.api)}}`)).toBe(true);
    });

    it('shows the queue (waiting, in flight, age) and the DLQ (depth, age)', () => {
      const queueName = `\${${logicalId(stack.queue)}.QueueName}`;
      const dlqName = `\${${logicalId(stack.deadLetterQueue)}.QueueName}`;
      expect(series(/^Queue: waiting/)).toEqual([
        ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', queueName],
        ['AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', 'QueueName', queueName],
      ]);
      expect(series(/^Queue: age/)).toEqual([['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', queueName]]);
      expect(series(/^DLQ depth/)).toEqual([['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', dlqName]]);
      expect(series(/^DLQ: age/)).toEqual([['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', dlqName]]);
    });

    it('shows Lambda errors, throttles and worker concurrency', () => {
      const fnNames = [stack.worker, ...stack.ingressFunctions.values(), stack.feedback].map((fn) => `\${${logicalId(fn)}}`);
      expect(series(/^Lambda errors/).filter((row) => row[0] === 'AWS/Lambda')).toEqual(fnNames.map((name) => ['AWS/Lambda', 'Errors', 'FunctionName', name]));
      expect(series(/^Lambda throttles/)).toEqual(fnNames.map((name) => ['AWS/Lambda', 'Throttles', 'FunctionName', name]));
      expect(series(/^Worker concurrency/)).toEqual([['AWS/Lambda', 'ConcurrentExecutions', 'FunctionName', fnNames[0]]]);
    });

    it('shows the SES account reputation', () => {
      expect(series(/^SES reputation/).map((row) => row[1])).toEqual(['Reputation.BounceRate', 'Reputation.ComplaintRate']);
    });
  });

  describe('SES feedback', () => {
    it('creates a configuration set that suppresses bounced and complaining addresses', () => {
      template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
      template.hasResourceProperties('AWS::SES::ConfigurationSet', { SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] } });
      template.hasOutput('SesConfigurationSetName', { Value: { Ref: logicalId(stack.sesConfigurationSet as never) } });
    });

    it('publishes bounces, complaints and rejects to the feedback topic', () => {
      template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
        ConfigurationSetName: { Ref: logicalId(stack.sesConfigurationSet as never) },
        EventDestination: { Enabled: true, MatchingEventTypes: ['bounce', 'complaint', 'reject'], SnsDestination: { TopicARN: { Ref: logicalId(stack.feedbackTopic) } } },
      });
    });

    it('lets only SES, for this configuration set, publish to the feedback topic, over TLS', () => {
      const policy = template.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [{ Ref: logicalId(stack.feedbackTopic) }] } });
      const statements = (Object.values(policy)[0] as Resource).Properties.PolicyDocument.Statement as any[];
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'ses.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      );
      const allow = statements.find((s) => s.Effect === 'Allow');
      expect(flatten(allow.Condition.StringEquals['AWS:SourceArn'])).toBe(
        `arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:configuration-set/\${${logicalId(stack.sesConfigurationSet as never)}}`,
      );
    });

    it('delivers the topic to the feedback function', () => {
      const fnArn = { 'Fn::GetAtt': [logicalId(stack.feedback), 'Arn'] };
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', TopicArn: { Ref: logicalId(stack.feedbackTopic) }, Endpoint: fnArn });
      template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: fnArn, Principal: 'sns.amazonaws.com', SourceArn: { Ref: logicalId(stack.feedbackTopic) } });
    });

    it('gives the feedback function the worker table actions, and its failure queue, nothing more', () => {
      const role = { Ref: stack.getLogicalId(stack.feedback.role!.node.defaultChild as never) };
      const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [role] } })) as Resource[];
      const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
      expect(statements).toEqual([
        expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [logicalId(stack.feedbackFailureQueue), 'Arn'] } }),
        expect.objectContaining({
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
          Resource: { 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] },
        }),
      ]);
    });

    it('parks feedback that fails after two retries in a TLS-only queue kept 14 days, and alarms on it', () => {
      const queueArn = { 'Fn::GetAtt': [logicalId(stack.feedbackFailureQueue), 'Arn'] };
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(stack.feedback) },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: queueArn } },
      });
      const queue = (template.findResources('AWS::SQS::Queue')[logicalId(stack.feedbackFailureQueue)] as Resource).Properties;
      expect(queue).toEqual(expect.objectContaining({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 }));
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(stack.feedbackFailureQueue) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
      expect(alarm(stack.alarms.feedbackFailures)).toEqual(
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.feedbackFailureQueue), 'QueueName'] } }],
          Threshold: 0,
          AlarmActions: [topicRef()],
        }),
      );
      template.hasOutput('FeedbackFailureQueueUrl', { Value: { Ref: logicalId(stack.feedbackFailureQueue) } });
    });

    it('tells the worker which configuration set to send with', () => {
      const worker = (template.findResources('AWS::Lambda::Function')[logicalId(stack.worker)] as Resource).Properties;
      expect(worker.Environment.Variables.KEYSMITH_SES_CONFIGURATION_SET).toEqual({ Ref: logicalId(stack.sesConfigurationSet as never) });
    });

    it('uses an existing configuration set when named, adding the feedback destination to it', () => {
      const existing = new KeysmithStack(appWithoutBundling(), 'Existing', { catalog: exampleCatalog(), sesConfigurationSetName: 'dedicated-ips' });
      const t = Template.fromStack(existing);
      t.resourceCountIs('AWS::SES::ConfigurationSet', 0);
      t.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', { ConfigurationSetName: 'dedicated-ips' });
      const worker = (t.findResources('AWS::Lambda::Function')[existing.getLogicalId(existing.worker.node.defaultChild as never)] as Resource).Properties;
      expect(worker.Environment.Variables.KEYSMITH_SES_CONFIGURATION_SET).toBe('dedicated-ips');
      expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain(':configuration-set/dedicated-ips"');
    });

    it('warns at synth that SES may be in the sandbox and points at `keysmith doctor`', () => {
      Annotations.fromStack(stack).hasWarning('/Keysmith', Match.stringLikeRegexp('sandbox[\\s\\S]*keysmith doctor'));
    });

    it('does not warn once context says the account has production access', () => {
      const out = new KeysmithStack(appWithoutBundling({ sesProductionAccess: 'true' }), 'Production', { catalog: exampleCatalog() });
      Annotations.fromStack(out).hasNoWarning('*', Match.stringLikeRegexp('sandbox'));
    });
  });
});
