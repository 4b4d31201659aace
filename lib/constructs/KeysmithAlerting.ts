import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, type IMetric, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRIC_DIMENSIONS, METRICS_NAMESPACE } from '../../functions/log/metrics';
import { licenseRequests, METRIC_PERIOD } from './KeysmithDashboard';
import { groupOnly } from './stableIds';

/** The most metrics CloudWatch evaluates in one alarm's metric math. */
export const MAX_ALARM_METRICS = 10;

/** Every alarm of a set, the groups flattened: what the topic policy and the dashboard list. */
export function alarmList(set: KeysmithAlarmSet): Alarm[] {
  return Object.values(set).flatMap((value: Alarm | readonly Alarm[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value as Alarm]));
}

/** A message older than this in the DLQ means nobody looked at it: alarm again. */
export const DLQ_MAX_AGE = Duration.hours(1);

/** Every alarm of the stack; each notifies the alarm topic. */
export interface KeysmithAlarmSet {
  /** The DLQ holds a message. */
  readonly deadLetterQueue: Alarm;
  /** A DLQ message has waited longer than `DLQ_MAX_AGE`. */
  readonly deadLetterQueueAge: Alarm;
  /** The worker Lambda itself failed (crash, timeout) — not an event it handed back for retry. */
  readonly workerErrors: Alarm;
  /** Any ingress Lambda of the first ten providers failed (crash, timeout, bad config at cold start). */
  readonly ingressErrors: Alarm;
  /**
   * The same for the 11th provider on, ten per alarm (an alarm's metric math takes at most 10
   * metrics): `IngressErrorsAlarm2`, `…3`. Absent with ten webhook providers or fewer.
   */
  readonly moreIngressErrors?: readonly Alarm[];
  /** API Gateway answered 5xx: the queue could not take events, or an ingress failed. */
  readonly apiServerErrors: Alarm;
  /** More webhooks rejected than the threshold in 5 minutes. */
  readonly rejections: Alarm;
  /** The SES feedback Lambda failed (Lambda retries it). */
  readonly feedbackErrors: Alarm;
  /** A feedback invocation failed for good and waits in the feedback failure queue. */
  readonly feedbackFailures: Alarm;
  /** The licensing Lambda failed, or the license API answered 5xx: apps fall back to their license files. */
  readonly licensingErrors?: Alarm;
  /** More unknown license keys than the threshold in 5 minutes: someone is guessing keys. */
  readonly licenseGuessing?: Alarm;
}

export interface KeysmithAlertingProps {
  /** The `Service` dimension of keysmith's metrics: the stack name. */
  readonly service: string;
  readonly providers: readonly string[];
  readonly deadLetterQueue: IQueue;
  readonly worker: IFunction;
  readonly ingressFunctions: ReadonlyMap<string, IFunction>;
  readonly api: HttpApi;
  readonly feedback: IFunction;
  readonly feedbackFailureQueue: IQueue;
  /** Rejected webhooks (all providers, 5 minutes) above which the rejection alarm fires. */
  readonly rejectionThreshold: number;
  /** The license API. @default - no license API alarms */
  readonly licensing?: { api: HttpApi; function: IFunction };
  /** Unknown license keys (5 minutes) above which the key-guessing alarm fires. @default 100 */
  readonly licenseGuessingThreshold?: number;
  /** Subscribed by email (confirmed by mail). @default - none */
  readonly alarmEmail?: string;
}

/**
 * The alarms and the SNS topic they notify.
 *
 * The topic takes only TLS publishes (`enforceSSL`), which writes a topic policy whose only
 * statement is a Deny — and then CloudWatch cannot publish either. So the policy also allows
 * `cloudwatch.amazonaws.com` to `sns:Publish`, for this account's alarms of this stack only
 * (`aws:SourceAccount`, `aws:SourceArn`): without it no alarm ever reaches anyone.
 */
export class KeysmithAlerting extends Construct {
  public readonly topic: Topic;
  public readonly alarms: KeysmithAlarmSet;

  constructor(scope: Construct, id: string, props: KeysmithAlertingProps) {
    super(scope, id);
    groupOnly(this);
    const stack = Stack.of(this);

    // ── validate ──
    if (!(props.rejectionThreshold >= 0)) throw new Error(`rejectionAlarmThreshold must be a number ≥ 0, got ${props.rejectionThreshold}`);

    // ── build ──
    this.topic = new Topic(this, 'AlarmTopic', { displayName: `keysmith ${props.service} alarms`, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const alarm = (alarmId: string, description: string, metric: IMetric, threshold: number): Alarm => {
      const created = new Alarm(this, alarmId, {
        alarmDescription: `keysmith: ${description}`,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // Every metric here reports only when something happens: no data is good news.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      return created;
    };
    // Metric ids in an expression are letters, digits and `_`: `paddle-billing` becomes `paddle_billing`.
    const sumOf = (label: string, byProvider: Record<string, IMetric>) => {
      const metrics = Object.fromEntries(Object.entries(byProvider).map(([provider, metric]) => [provider.replace(/-/g, '_'), metric]));
      return new MathExpression({ expression: `SUM([${Object.keys(metrics).join(',')}])`, usingMetrics: metrics, label, period: METRIC_PERIOD });
    };
    const fiveMinuteSum = { period: METRIC_PERIOD, statistic: 'Sum' } as const;
    const ingressGroups: string[][] = [];
    for (let i = 0; i < props.providers.length; i += MAX_ALARM_METRICS) ingressGroups.push(props.providers.slice(i, i + MAX_ALARM_METRICS));
    const ingressErrors = (group: string[], n: number) =>
      alarm(
        n === 0 ? 'IngressErrorsAlarm' : `IngressErrorsAlarm${n + 1}`,
        `an ingress Lambda${n === 0 ? '' : ` (${group.join(', ')})`} failed (crash, timeout or bad config at cold start); providers see 5xx and retry.`,
        sumOf('ingress errors', Object.fromEntries(group.map((p) => [p, props.ingressFunctions.get(p)!.metricErrors(fiveMinuteSum)]))),
        0,
      );
    const moreIngressErrors = ingressGroups.slice(1).map((group, i) => ingressErrors(group, i + 1));
    this.alarms = {
      deadLetterQueue: alarm(
        'DeadLetterQueueAlarm',
        'events failed processing and wait in the DLQ. Inspect with `keysmith dlq list`, redrive with `keysmith dlq redrive`.',
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        0,
      ),
      deadLetterQueueAge: alarm(
        'DeadLetterQueueAgeAlarm',
        `a DLQ message has waited over ${DLQ_MAX_AGE.toHumanString()}; SQS drops it after 14 days. Inspect with \`keysmith dlq list\`.`,
        props.deadLetterQueue.metricApproximateAgeOfOldestMessage({ period: METRIC_PERIOD, statistic: 'Maximum' }),
        DLQ_MAX_AGE.toSeconds(),
      ),
      workerErrors: alarm('WorkerErrorsAlarm', 'the worker Lambda failed (crash or timeout); its batch is retried. See the worker logs.', props.worker.metricErrors(fiveMinuteSum), 0),
      ingressErrors: ingressErrors(ingressGroups[0] ?? [], 0),
      ...(moreIngressErrors.length > 0 ? { moreIngressErrors } : {}),
      apiServerErrors: alarm('ApiServerErrorsAlarm', 'the webhook API answered 5xx (queue unavailable or an ingress failed); providers retry.', props.api.metricServerError(fiveMinuteSum), 0),
      rejections: alarm(
        'RejectionsAlarm',
        `more than ${props.rejectionThreshold} webhooks rejected in 5 minutes: forged traffic, or a provider secret that no longer matches (\`keysmith secrets set\`).`,
        // Every provider's rejections in one metric (functions/log/metrics.ts SERVICE_TOTALS).
        new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: METRIC.rejected,
          dimensionsMap: { [METRIC_DIMENSIONS.service]: props.service },
          period: METRIC_PERIOD,
          statistic: 'Sum',
        }),
        props.rejectionThreshold,
      ),
      feedbackErrors: alarm('FeedbackErrorsAlarm', 'the SES feedback Lambda failed; Lambda retries it, then parks it in the feedback failure queue.', props.feedback.metricErrors(fiveMinuteSum), 0),
      feedbackFailures: alarm(
        'FeedbackFailuresAlarm',
        'an SES bounce or complaint could not be recorded after retries; it waits in the feedback failure queue (14 days). See docs/observability.md.',
        props.feedbackFailureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        0,
      ),
      ...(props.licensing
        ? {
            licensingErrors: alarm(
              'LicensingErrorsAlarm',
              'the license API failed (function errors or 5xx); apps keep working from their license files until those expire. See the licensing function logs.',
              new MathExpression({
                expression: 'fn + api',
                usingMetrics: { fn: props.licensing.function.metricErrors(fiveMinuteSum), api: props.licensing.api.metricServerError(fiveMinuteSum) },
                label: 'license API errors',
                period: METRIC_PERIOD,
              }),
              0,
            ),
            licenseGuessing: alarm(
              'LicenseGuessingAlarm',
              `more than ${props.licenseGuessingThreshold ?? 100} unknown license keys in 5 minutes: someone may be guessing keys (the API throttle bounds the rate). See docs/license-api.md.`,
              licenseRequests(props.service, 'NOT_FOUND'),
              props.licenseGuessingThreshold ?? 100,
            ),
          }
        : {}),
    };

    // ── wire ──
    // The statement enforceSSL leaves out. Source ARNs are this stack's alarms, not "any alarm".
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': alarmList(this.alarms).map((a) => a.alarmArn) },
        },
      }),
    );
  }
}
