import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { TABLE } from '../../../functions/settings';
import { readDevSecrets } from '../../../lib/local/devSecrets';
import { type LocalStack, startLocalStack } from '../../../lib/local/stack';
import { rawRequest } from './support';

/**
 * The real handlers behind the local stack: every provider's signed sample goes in over HTTP and
 * comes out as an entitlement in the table (found through the email index) and, where the
 * provider expects keysmith to mail the customer, as an email in the SES emulator. Proves the
 * wiring (routes, env, secrets, queue, table, poller) with the code that ships, not with fakes.
 */

/** Paddle's fulfillment webhook answers with the license; Paddle mails the customer itself. */
const ANSWERED_INLINE = new Set(['paddle']);

describe('local stack with the real handlers', () => {
  let stack: LocalStack;
  let stateDir: string;

  beforeAll(async () => {
    // The handlers log JSON lines to stdout; keep them out of the test report.
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stateDir = mkdtempSync(join(tmpdir(), 'keysmith-pipeline-'));
    stack = await startLocalStack({ port: 0, stateDir, log: false });
  });
  afterAll(async () => {
    await stack?.stop();
    jest.restoreAllMocks();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it.each(WEBHOOK_PROVIDERS.map((r) => [r.name, r] as const))('turns a signed %s sample into an entitlement and, where keysmith mails, an email', async (_name, registration) => {
    // Prepare: signed with the dev secrets the stack generated, as `keysmith send` does.
    const email = `buyer-${registration.name}-${Date.now()}@example.com`;
    const sample = (await registration.sample()).build({ secrets: { ...stack.env, ...readDevSecrets(stateDir) }, email });

    // Act
    const res = await rawRequest(`${stack.url}${sample.path}`, { method: sample.method, headers: sample.headers, body: sample.body });
    await stack.poller.drain(20_000);

    // Assess
    expect(res.status).toBeLessThan(300);
    const dynamo = new DynamoDBClient({});
    const { Items = [] } = await dynamo.send(
      new QueryCommand({
        TableName: TABLE.name,
        IndexName: TABLE.emailIndex.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.emailIndex.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: `EMAIL#${email.toLowerCase()}` } },
      }),
    );
    dynamo.destroy();
    expect(Items.length).toBeGreaterThanOrEqual(1);
    const store = JSON.parse((await rawRequest(`${stack.endpoints.ses}/store`)).body.toString()) as { emails: Array<{ destination: { to: string[] } }> };
    expect(store.emails.filter((e) => e.destination.to.includes(email))).toHaveLength(ANSWERED_INLINE.has(registration.name) ? 0 : 1);
  });
});
