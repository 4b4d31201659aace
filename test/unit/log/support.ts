import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { FulfillmentEvent } from '../../../functions/domain/events';
import { EmfMetrics } from '../../../functions/log/metrics';

/** An EMF emitter that keeps its documents, parsed, with a fixed clock. */
export function capturedMetrics(): { metrics: EmfMetrics; docs: EmfDocument[] } {
  const docs: EmfDocument[] = [];
  const metrics = new EmfMetrics({ service: 'TestStack', write: (line) => docs.push(JSON.parse(line) as EmfDocument), now: () => 1_767_225_600_000 });
  return { metrics, docs };
}

export interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/**
 * Check a document against the EMF specification's rules that CloudWatch enforces, and return
 * `{ "Provider|Reason": { Name: value } }` for each dimension set it declares.
 */
export function readEmf(doc: EmfDocument): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  expect(Number.isInteger(doc._aws.Timestamp)).toBe(true);
  expect(doc._aws.CloudWatchMetrics.length).toBeGreaterThan(0);
  for (const directive of doc._aws.CloudWatchMetrics) {
    expect(directive.Namespace).toBe('Keysmith');
    expect(directive.Metrics.length).toBeGreaterThan(0);
    expect(directive.Metrics.length).toBeLessThanOrEqual(100);
    for (const set of directive.Dimensions) {
      expect(set.length).toBeLessThanOrEqual(30);
      // Every dimension a set names is a top-level string.
      for (const name of set) expect(typeof doc[name]).toBe('string');
      const key = set.map((name) => `${name}=${doc[name]}`).join('|');
      out[key] ??= {};
      for (const metric of directive.Metrics) {
        expect(['Count', 'Milliseconds']).toContain(metric.Unit);
        const value = doc[metric.Name];
        // A number, or an array of at most 100 numbers.
        if (Array.isArray(value)) {
          expect(value.length).toBeLessThanOrEqual(100);
          for (const v of value) expect(typeof v).toBe('number');
        } else {
          expect(typeof value).toBe('number');
        }
        out[key][metric.Name] = value;
      }
    }
  }
  return out;
}

/** What CloudWatch makes of several documents: per dimension set, counts summed, values joined. */
export function readAll(docs: EmfDocument[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const doc of docs) {
    for (const [set, values] of Object.entries(readEmf(doc))) {
      const target = (out[set] ??= {});
      for (const [name, value] of Object.entries(values)) {
        const seen = target[name];
        if (seen === undefined) target[name] = value;
        else if (typeof seen === 'number' && typeof value === 'number') target[name] = seen + value;
        else target[name] = [seen, value].flat();
      }
    }
  }
  return out;
}

/** An SQS event as Lambda's FIFO event source mapping delivers it. */
export function sqsEvent(events: FulfillmentEvent[], receiveCount = 1): SQSEvent {
  return {
    Records: events.map(
      (event, i) =>
        ({
          messageId: `msg-${event.eventId}-${i}`,
          receiptHandle: `rh-${i}`,
          body: JSON.stringify(event),
          attributes: {
            ApproximateReceiveCount: String(receiveCount),
            SentTimestamp: '0',
            SenderId: 'test',
            ApproximateFirstReceiveTimestamp: '0',
            MessageGroupId: `${event.provider}#${event.scope}`,
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:keysmith-events.fifo',
          awsRegion: 'us-east-1',
        }) as SQSRecord,
    ),
  };
}
