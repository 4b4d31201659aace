import type { LicenseView } from '../domain/licenseView';
import type { Activations, AddOutcome, Instance, LicenseApiStore, LicenseRecord } from '../licensing/api';
import { TABLE } from '../settings';
import type { AwsJsonClient, CallOptions } from './light/AwsJsonClient';
import { AwsCallError } from './light/errors';
import { INSTANCES_SK, VIEW_SK } from './storeKeys';

/**
 * The license API's DynamoDB access, over the light JSON client (the licensing Lambda does not
 * carry the AWS SDK). A license's API partition (functions/domain/licenseView.ts `apiPartition`)
 * holds its lookup item, its view (`VIEW`, written by the worker) and its activations (`INST`,
 * written only here):
 *
 *   INST: i = map of instance id → { n: name, f: sha256(fingerprint), c: created (s) }
 *         n = instances in use, d = UTC day of the last activation, dc = activations that day
 *
 * One Query reads all three. Every write is one conditional UpdateItem on `INST` whose condition
 * restates what the read saw (the instance absent, fewer than `limit` in use, today's count under
 * the budget), so concurrent activations cannot take more seats than the license has.
 */

type Av = Record<string, unknown>;

interface QueryOutput {
  Items?: Record<string, Av>[];
}

export class DynamoLicenseApiStore implements LicenseApiStore {
  constructor(
    private readonly client: AwsJsonClient,
    private readonly tableName: string,
    private readonly options: () => CallOptions = () => ({}),
  ) {}

  async read(partition: string, consistent = false): Promise<LicenseRecord> {
    const output = await this.client.call<QueryOutput>(
      'Query',
      {
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: partition } },
        ...(consistent ? { ConsistentRead: true } : {}),
      },
      this.options(),
    );
    let view: LicenseView | undefined;
    let activations: Activations = { instances: {}, usage: 0, exists: false };
    for (const item of output.Items ?? []) {
      const sk = (item[TABLE.sortKey] as { S?: string } | undefined)?.S;
      if (sk === VIEW_SK) view = parseView(item);
      else if (sk === INSTANCES_SK) activations = parseActivations(item);
    }
    return { ...(view ? { view } : {}), activations };
  }

  async addInstance(partition: string, instance: Instance, rule: { limit: number; budget: number; today: string; seen: Activations }): Promise<AddOutcome> {
    const { seen } = rule;
    const names: Record<string, string> = { '#i': 'i', '#n': 'n', '#d': 'd', '#dc': 'dc' };
    const values: Record<string, unknown> = { ':one': { N: '1' }, ':today': { S: rule.today } };
    let update: string;
    let condition: string;
    if (!seen.exists) {
      update = 'SET #i = :map, #n = :one, #d = :today, #dc = :one';
      condition = 'attribute_not_exists(#n)';
      values[':map'] = { M: { [instance.id]: instanceValue(instance) } };
    } else {
      names['#id'] = instance.id;
      values[':inst'] = instanceValue(instance);
      values[':limit'] = { N: String(rule.limit) };
      const sameDay = seen.day === rule.today;
      update = `SET #i.#id = :inst, #n = #n + :one, #d = :today, #dc = ${sameDay ? '#dc + :one' : ':one'}`;
      condition = 'attribute_not_exists(#i.#id) AND #n < :limit';
      if (sameDay) {
        condition += ' AND #d = :today AND #dc < :budget';
        values[':budget'] = { N: String(rule.budget) };
      } else if (seen.day !== undefined) {
        condition += ' AND #d = :seenDay';
        values[':seenDay'] = { S: seen.day };
      } else {
        condition += ' AND attribute_not_exists(#d)';
      }
    }
    try {
      await this.client.call(
        'UpdateItem',
        {
          TableName: this.tableName,
          Key: instancesKey(partition),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
        this.options(),
      );
      return 'added';
    } catch (error) {
      if (error instanceof AwsCallError && error.code === 'ConditionalCheckFailedException') return 'conflict';
      throw error;
    }
  }

  async removeInstance(partition: string, instanceId: string): Promise<boolean> {
    try {
      await this.client.call(
        'UpdateItem',
        {
          TableName: this.tableName,
          Key: instancesKey(partition),
          UpdateExpression: 'REMOVE #i.#id SET #n = #n - :one',
          ConditionExpression: 'attribute_exists(#i.#id)',
          ExpressionAttributeNames: { '#i': 'i', '#n': 'n', '#id': instanceId },
          ExpressionAttributeValues: { ':one': { N: '1' } },
        },
        this.options(),
      );
      return true;
    } catch (error) {
      if (error instanceof AwsCallError && error.code === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}

function instancesKey(partition: string): Av {
  return { [TABLE.partitionKey]: { S: partition }, [TABLE.sortKey]: { S: INSTANCES_SK } };
}

function instanceValue(instance: Instance): Av {
  return { M: { n: { S: instance.name }, ...(instance.fp ? { f: { S: instance.fp } } : {}), c: { N: String(instance.created) } } };
}

function parseView(item: Av): LicenseView | undefined {
  const text = (item.view as { S?: string } | undefined)?.S;
  if (!text) return undefined;
  try {
    return JSON.parse(text) as LicenseView;
  } catch {
    return undefined;
  }
}

/** The activations item as DynamoDB returns it (attribute values, wire form). */
export function parseActivations(item: Av): Activations {
  const map = ((item.i as { M?: Record<string, { M?: Record<string, { S?: string; N?: string }> }> } | undefined)?.M ?? {}) as Record<string, { M?: Record<string, { S?: string; N?: string }> }>;
  const instances: Record<string, Instance> = {};
  for (const [id, value] of Object.entries(map)) {
    const m = value.M ?? {};
    instances[id] = { id, name: m.n?.S ?? '', ...(m.f?.S ? { fp: m.f.S } : {}), created: Number(m.c?.N ?? 0) };
  }
  const day = (item.d as { S?: string } | undefined)?.S;
  const dayCount = (item.dc as { N?: string } | undefined)?.N;
  return {
    instances,
    usage: Number((item.n as { N?: string } | undefined)?.N ?? Object.keys(instances).length),
    ...(day !== undefined ? { day } : {}),
    ...(dayCount !== undefined ? { dayCount: Number(dayCount) } : {}),
    exists: true,
  };
}
