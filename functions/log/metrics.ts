/**
 * CloudWatch metrics as Embedded Metric Format (EMF) log lines, without a dependency.
 *
 * A Lambda writes one JSON line to stdout; CloudWatch Logs turns it into metrics asynchronously,
 * so recording a metric costs no API call and no latency. Calls only add to an in-memory
 * aggregate (counts are summed, timings collected); `flush()` — once at the end of a request or
 * a batch — writes one line per provider (two when a provider also has reasoned metrics that
 * cannot share the line).
 *
 * Dimensions: every metric has `Service` (the stack name, `KEYSMITH_SERVICE`) and `Provider`; a
 * metric recorded with a `reason` (a rejection code, a mail error code) is published under
 * `[Service, Provider]` *and* `[Service, Provider, Reason]`, so per-provider totals need no
 * metric math and reasons can still be told apart. `Rejected` is also published under
 * `[Service]` alone: the rejection-spike alarm reads that one total, however many providers
 * there are (an alarm's metric math takes at most 10 metrics).
 *
 * Outside Lambda (unit tests, the local stack) nothing is written unless `KEYSMITH_METRICS=on`.
 */

/** The CloudWatch namespace of every keysmith metric (the stack's dashboard and alarms read it). */
export const METRICS_NAMESPACE = 'Keysmith';

/** Dimension names, shared with the stack. */
export const METRIC_DIMENSIONS = { service: 'Service', provider: 'Provider', reason: 'Reason' } as const;

/** Every metric keysmith publishes. Counts are `Count`, latencies `Milliseconds`. */
export const METRIC = {
  /** Ingress: a webhook request reached the function. */
  received: 'Received',
  /** Ingress: refused with a 4xx; `Reason` is the rejection code (UNAUTHORIZED, MALFORMED, …). */
  rejected: 'Rejected',
  /** Ingress: events SQS accepted. */
  enqueued: 'Enqueued',
  /** Ingress: events SQS refused (the provider gets a 5xx and retries). */
  enqueueFailed: 'EnqueueFailed',
  /** Ingress: time from handler entry to answer, ms. */
  ingressLatency: 'IngressLatency',
  /** Worker: time to process one event (state write, lookups, email), ms. */
  processingLatency: 'ProcessingLatency',
  /** Worker: licenses created by grants and plan changes. */
  licensesIssued: 'LicensesIssued',
  /** Worker: licenses revoked by refunds, chargebacks, cancellations. */
  licensesRevoked: 'LicensesRevoked',
  /** Worker: emails SES accepted. */
  emailsSent: 'EmailsSent',
  /** Worker: emails that failed permanently (recorded on the order); `Reason` is the code. */
  emailsFailed: 'EmailsFailed',
  /** Worker: events handed back to SQS for a retry. */
  eventsFailed: 'EventsFailed',
  /** Feedback: SES reported a bounce of a keysmith email. */
  emailsBounced: 'EmailsBounced',
  /** Feedback: the customer marked a keysmith email as spam. */
  emailsComplained: 'EmailsComplained',
  /** Feedback: SES rejected a keysmith email after accepting it (e.g. virus scan). */
  emailsRejected: 'EmailsRejected',
  /**
   * License API: one request answered; `Provider` is the route (activate, validate, deactivate),
   * `Reason` its code (VALID, NOT_FOUND, …). A run of NOT_FOUND is someone guessing keys.
   */
  licenseRequests: 'LicenseRequests',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Metrics also published under `[Service]` alone, summed over every provider. */
export const SERVICE_TOTALS: ReadonlySet<MetricName> = new Set([METRIC.rejected]);

export interface MetricDimensions {
  provider: string;
  /** Published as an extra `[Service, Provider, Reason]` dimension set. */
  reason?: string;
}

export interface Metrics {
  /** Add `value` to a counter. */
  count(name: MetricName, value: number, dimensions: MetricDimensions): void;
  /** Record one duration in milliseconds. */
  timing(name: MetricName, ms: number, dimensions: MetricDimensions): void;
  /** Write everything recorded since the last flush, then forget it. */
  flush(): void;
}

/** Records nothing; the default wherever no metrics are injected. */
export const noMetrics: Metrics = { count: () => undefined, timing: () => undefined, flush: () => undefined };

type Unit = 'Count' | 'Milliseconds';
interface Series {
  unit: Unit;
  /** A counter keeps one running sum; a timing keeps every value (EMF accepts an array). */
  values: number[];
}
type SeriesMap = Map<string, Series>;
interface Bucket {
  plain: SeriesMap;
  byReason: Map<string, SeriesMap>;
}

/** EMF allows at most 100 values per metric in one document. */
const MAX_VALUES = 100;

export interface EmfOptions {
  /** The `Service` dimension value. @default 'keysmith' */
  service?: string;
  /** @default METRICS_NAMESPACE */
  namespace?: string;
  /** Receives each EMF document (one JSON line, no newline). @default process.stdout */
  write?: (line: string) => void;
  /** @default Date.now */
  now?: () => number;
}

export class EmfMetrics implements Metrics {
  private readonly buckets = new Map<string, Bucket>();
  private readonly service: string;
  private readonly namespace: string;
  private readonly write: (line: string) => void;
  private readonly now: () => number;

  constructor(options: EmfOptions = {}) {
    this.service = options.service ?? 'keysmith';
    this.namespace = options.namespace ?? METRICS_NAMESPACE;
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? Date.now;
  }

  count(name: MetricName, value: number, dimensions: MetricDimensions): void {
    this.add(name, 'Count', value, dimensions);
  }

  timing(name: MetricName, ms: number, dimensions: MetricDimensions): void {
    this.add(name, 'Milliseconds', ms, dimensions);
  }

  flush(): void {
    if (this.buckets.size === 0) return;
    const timestamp = this.now();
    for (const [provider, bucket] of this.buckets) {
      const reasons = [...bucket.byReason.keys()];
      const only = reasons.length === 1 ? bucket.byReason.get(reasons[0]!)! : undefined;
      if (reasons.length === 0) {
        this.write(this.document(timestamp, provider, bucket.plain));
      } else if (only && ![...only.keys()].some((name) => bucket.plain.has(name))) {
        // The common case (one rejected request): everything on one line.
        this.write(this.document(timestamp, provider, bucket.plain, reasons[0], only));
      } else {
        // A top-level key holds one value, so reasons (or a name recorded with and without one)
        // cannot share a line.
        if (bucket.plain.size > 0) this.write(this.document(timestamp, provider, bucket.plain));
        for (const [reason, series] of bucket.byReason) this.write(this.document(timestamp, provider, new Map(), reason, series));
      }
    }
    this.buckets.clear();
  }

  private add(name: MetricName, unit: Unit, value: number, dimensions: MetricDimensions): void {
    if (!Number.isFinite(value)) return;
    let bucket = this.buckets.get(dimensions.provider);
    if (!bucket) {
      bucket = { plain: new Map(), byReason: new Map() };
      this.buckets.set(dimensions.provider, bucket);
    }
    let map = bucket.plain;
    if (dimensions.reason !== undefined) {
      map = bucket.byReason.get(dimensions.reason) ?? new Map();
      bucket.byReason.set(dimensions.reason, map);
    }
    const series = map.get(name);
    if (!series) map.set(name, { unit, values: [value] });
    else if (unit === 'Count') series.values[0]! += value;
    else if (series.values.push(value) >= MAX_VALUES) this.flush();
  }

  private document(timestamp: number, provider: string, plain: SeriesMap, reason?: string, reasoned?: SeriesMap): string {
    const { service, provider: P, reason: R } = METRIC_DIMENSIONS;
    const definitions = (map: SeriesMap) => [...map].map(([name, s]) => ({ Name: name, Unit: s.unit }));
    const directives: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: Unit }[] }[] = [
      { Namespace: this.namespace, Dimensions: [[service, P]], Metrics: [...definitions(plain), ...(reasoned ? definitions(reasoned) : [])] },
    ];
    const doc: Record<string, unknown> = { _aws: { Timestamp: timestamp, CloudWatchMetrics: directives }, [service]: this.service, [P]: provider };
    if (reason !== undefined && reasoned) {
      directives.push({ Namespace: this.namespace, Dimensions: [[service, P, R]], Metrics: definitions(reasoned) });
      doc[R] = reason;
    }
    const totals = directives[0]!.Metrics.filter((m) => SERVICE_TOTALS.has(m.Name as MetricName));
    if (totals.length > 0) directives.push({ Namespace: this.namespace, Dimensions: [[service]], Metrics: totals });
    for (const map of reasoned ? [plain, reasoned] : [plain]) {
      for (const [name, s] of map) doc[name] = s.values.length === 1 ? s.values[0] : s.values;
    }
    return JSON.stringify(doc);
  }
}

/**
 * The process's metrics: EMF to stdout inside Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set), nothing
 * elsewhere. `KEYSMITH_METRICS=on|off` overrides either way.
 */
export function metricsFromEnv(env: NodeJS.ProcessEnv = process.env, write?: (line: string) => void): Metrics {
  const setting = env.KEYSMITH_METRICS?.toLowerCase();
  const enabled = setting === 'on' || (setting !== 'off' && !!env.AWS_LAMBDA_FUNCTION_NAME);
  if (!enabled) return noMetrics;
  return new EmfMetrics({ service: env.KEYSMITH_SERVICE || 'keysmith', ...(write ? { write } : {}) });
}

export const metrics: Metrics = metricsFromEnv();
