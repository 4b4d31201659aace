import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Secrets, secretsFrom } from '../../../functions/aws/secrets';
import type { Catalog } from '../../../functions/domain/catalog';
import { fulfillmentEventSchema } from '../../../functions/domain/eventSchema';
import type { FulfillmentEvent, ProviderName } from '../../../functions/domain/events';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import type { SampleBuilder } from '../../../functions/providers/sample';
import { parseQueuedEvent } from '../../../functions/worker/handler';
import { ensureDevSecrets } from '../../../lib/local/devSecrets';
import { rawFromSample } from '../../../scripts/soak/apiEvent';
import { ingestInProcess } from '../../../scripts/soak/inProcess';
import { exampleCatalog } from '../../helpers/fixtures';

/**
 * Issue 9, item 5 — what the ingress accepts, the worker accepts. For random, correctly signed
 * requests of every provider, with the fields that become the canonical event (names, emails,
 * ids, product ids, item names) replaced by long, multi-byte, astral or odd text: the ingress
 * never answers 5xx, and every event it enqueues after a 2xx is accepted by the worker's own
 * parse of the queue message (`parseQueuedEvent`) and by the zod schema, unchanged.
 */

const RUNS = Number(process.env.KEYSMITH_FUZZ_RUNS ?? 120);

/** The signed content of each provider's default sample, as a JSON document `build({ file })` signs again. */
const CONTENT: Record<ProviderName, { fields: string[]; content(body: Buffer): Record<string, unknown> }> = {
  fastspring: {
    fields: [
      'events.0.id',
      'events.0.data.id',
      'events.0.data.reference',
      'events.0.data.language',
      'events.0.data.customer.first',
      'events.0.data.customer.last',
      'events.0.data.customer.email',
      'events.0.data.customer.company',
      'events.0.data.items.0.product',
      'events.0.data.items.0.display',
      'events.0.data.items.0.sku',
      'events.0.data.items.1.product',
      'events.0.data.items.1.display',
    ],
    content: (body) => JSON.parse(body.toString('utf8')),
  },
  paddle: {
    fields: ['email', 'name', 'product', 'p_order_id', 'p_product_id', 'passthrough'],
    content: (body) => Object.fromEntries([...new URLSearchParams(body.toString('utf8'))].filter(([name]) => name !== 'p_signature')),
  },
  elements: {
    fields: ['email', 'notificationEmail', 'firstName', 'lastName', 'planIdentifier', 'subscriptionId', 'tenantId'],
    content: (body) => JSON.parse(Buffer.from((JSON.parse(body.toString('utf8')) as { payload: string }).payload.split('.')[1]!, 'base64url').toString('utf8')),
  },
  hotmart: {
    fields: ['id', 'data.buyer.email', 'data.buyer.name', 'data.buyer.first_name', 'data.buyer.last_name', 'data.product.name', 'data.purchase.transaction'],
    content: (body) => JSON.parse(body.toString('utf8')),
  },
  selldone: {
    fields: [
      'basket.receiver_info.name',
      'basket.receiver_info.email',
      'user.name',
      'user.email',
      'basket.updated_at',
      'basket.items.0.product.title',
      'basket.items.0.product_id',
      'basket.items.1.product.title',
    ],
    content: (body) => JSON.parse(body.toString('utf8')),
  },
  lemonsqueezy: {
    fields: [
      'data.id',
      'data.attributes.identifier',
      'data.attributes.user_name',
      'data.attributes.user_email',
      'data.attributes.updated_at',
      'data.attributes.first_order_item.product_name',
      'data.attributes.first_order_item.variant_name',
    ],
    content: (body) => JSON.parse(body.toString('utf8')),
  },
  polar: {
    fields: ['timestamp', 'data.id', 'data.product_id', 'data.product.name', 'data.customer.email', 'data.customer.name', 'data.customer.locale'],
    content: (body) => JSON.parse(body.toString('utf8')),
  },
  // The form's fields as a JSON object: `build({ file })` sends that as a JSON ping.
  gumroad: {
    fields: ['sale_id', 'product_id', 'short_product_id', 'product_name', 'email', 'full_name', 'sale_timestamp', 'variants[Tier]'],
    content: (body) => Object.fromEntries(new URLSearchParams(body.toString('utf8'))),
  },
  stripe: {
    fields: [
      'id',
      'data.object.id',
      'data.object.payment_intent',
      'data.object.payment_link',
      'data.object.locale',
      'data.object.customer_details.email',
      'data.object.customer_details.name',
      'data.object.metadata.keysmith_product',
    ],
    content: (body) => JSON.parse(body.toString('utf8')),
  },
  'paddle-billing': {
    fields: [
      'event_id',
      'occurred_at',
      'data.id',
      'data.origin',
      'data.subscription_id',
      'data.custom_data.email',
      'data.items.0.price.id',
      'data.items.0.price.product_id',
      'data.items.0.price.name',
      'data.details.line_items.0.product.name',
    ],
    content: (body) => JSON.parse(body.toString('utf8')),
  },
};

/** Lengths at and around the bounds of eventBounds.ts. */
const LENGTHS = [35, 36, 64, 100, 101, 200, 201, 300, 301, 320, 321, 400, 512, 513, 1024, 1025];
const oddText = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 600 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
  fc.tuple(fc.constantFrom('a', 'é', '€', '😀', 'Ω', '\u0000', '\ud800', ' '), fc.oneof(fc.integer({ min: 1, max: 1100 }), fc.constantFrom(...LENGTHS))).map(([c, n]) => c.repeat(n)),
  fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 400 })).map(([local, domain]) => `${'a'.repeat(local)}@${'b'.repeat(domain)}.com`),
);

function setPath(document: Record<string, unknown>, path: string, value: string): void {
  const parts = path.split('.');
  let node: any = document;
  for (const part of parts.slice(0, -1)) node = node?.[part];
  if (node === undefined || node === null || !(parts.at(-1)! in node)) throw new Error(`the sample has no field ${path}`);
  node[parts.at(-1)!] = value;
}

describe('ingress → worker: every event acked after a 2xx is one the worker accepts (property)', () => {
  let stateDir: string;
  let values: Record<string, string | undefined>;
  let secrets: Secrets;
  let catalog: Catalog;
  const builders = new Map<ProviderName, SampleBuilder>();

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'keysmith-canonical-'));
    values = ensureDevSecrets(stateDir, {}).values;
    secrets = secretsFrom(values);
    catalog = exampleCatalog();
    for (const registration of WEBHOOK_PROVIDERS) builders.set(registration.name, await registration.sample());
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  /** Sign `content` as the provider would and run it through the real ingress pipeline. */
  const ingest = async (provider: ProviderName, content: Record<string, unknown>) => {
    const request = builders.get(provider)!.build({ secrets: values, file: Buffer.from(JSON.stringify(content)) });
    return ingestInProcess(rawFromSample(request), { secrets, catalog });
  };

  /** What the worker does with each enqueued event: parse the queue message body. */
  const expectWorkerAccepts = (events: FulfillmentEvent[]): void => {
    for (const event of events) {
      const body = JSON.stringify(event);
      expect(parseQueuedEvent(body)).toEqual(event);
      expect(fulfillmentEventSchema.safeParse(JSON.parse(body)).success).toBe(true);
    }
  };

  it.each(WEBHOOK_PROVIDERS.map((r) => r.name))('%s', async (provider) => {
    // Prepare: the provider's genuine sample, and which of its fields the generator may change.
    const spec = CONTENT[provider];
    if (!spec) throw new Error(`add ${provider}'s changeable fields to CONTENT in this test`);
    const { fields, content } = spec;
    const base = content(builders.get(provider)!.build({ secrets: values, email: 'base@example.com' }).body);
    for (const field of fields) setPath(structuredClone(base), field, 'x'); // every listed field exists
    const changes = fc.uniqueArray(fc.tuple(fc.constantFrom(...fields), oddText), { minLength: 1, maxLength: fields.length, selector: ([field]) => field });
    let acked = 0;
    await fc.assert(
      fc.asyncProperty(changes, async (list) => {
        const document = structuredClone(base);
        for (const [field, value] of list) setPath(document, field, value);
        // Act
        const { answer, enqueued } = await ingest(provider, document);
        // Assess
        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 200 && answer.status < 300) {
          acked++;
          expectWorkerAccepts(enqueued);
        } else {
          expect(enqueued).toHaveLength(0);
        }
      }),
      { numRuns: RUNS },
    );
    // The property means nothing if every request were refused.
    // (Some providers refuse about 3 in 4 random documents, e.g. Elements' odd emails; with ~30 of
    // 120 expected, a bound of RUNS / 10 is ~4 standard deviations away, so it never flakes.)
    expect(acked).toBeGreaterThanOrEqual(RUNS / 10);
  });

  it('a FastSpring order with a 400-character name, a 320-character email and a 300-character product id is acked and accepted whole', async () => {
    // Prepare
    const email = `${'a'.repeat(64)}@${'b'.repeat(251)}.com`;
    const document = CONTENT.fastspring!.content(builders.get('fastspring')!.build({ secrets: values }).body);
    setPath(document, 'events.0.data.customer.first', 'F'.repeat(400));
    setPath(document, 'events.0.data.customer.email', email);
    setPath(document, 'events.0.data.items.0.product', 'p'.repeat(300));
    // Act
    const { answer, enqueued } = await ingest('fastspring', document);
    // Assess
    expect(answer.status).toBe(200);
    expect(enqueued).toHaveLength(1);
    expectWorkerAccepts(enqueued);
    const [event] = enqueued;
    expect(event!.customer.email).toBe(email);
    expect(event!.customer.name).toBe(`${'F'.repeat(299)}…`);
    expect(event!.items[0]!.productId).toBe('p'.repeat(300));
  });

  it('a FastSpring event the worker could not take (no product id) is left unacknowledged, the others are acked', async () => {
    // Prepare: two events, the second with an item whose product names no id.
    const document = CONTENT.fastspring!.content(builders.get('fastspring')!.build({ secrets: values }).body) as { events: Record<string, any>[] };
    const broken = structuredClone(document.events[0]!);
    broken.id = 'broken-event';
    broken.data.id = 'broken-order';
    broken.data.items[0].product = {};
    document.events.push(broken);
    // Act
    const { answer, enqueued } = await ingest('fastspring', document);
    // Assess: 202 lists only the good event; FastSpring retries (and shows) the other.
    expect(answer.status).toBe(202);
    expect(enqueued.map((e) => e.eventId)).toEqual([document.events[0]!.id]);
    expect(answer.body).not.toContain('broken-event');
  });
});
