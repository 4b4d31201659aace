import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { secretsFrom } from '../../functions/aws/secrets';
import { type Catalog, parseCatalog } from '../../functions/domain/catalog';
import type { FulfillmentEvent } from '../../functions/domain/events';

export const LICENSE_SECRET = 'test-license-secret-0123456789abcdef';

export function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, '..', 'fixtures', 'providers', name));
}

export function exampleCatalog(): Catalog {
  return parseCatalog(JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'keysmith.example.json'), 'utf8')));
}

export function catalogWith(overrides: Record<string, unknown>): Catalog {
  const base = JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'keysmith.example.json'), 'utf8')) as Record<string, unknown>;
  return parseCatalog({ ...base, ...overrides });
}

export function testSecrets(values: Record<string, string> = {}) {
  return secretsFrom({ KEYSMITH_LICENSE_SECRET: LICENSE_SECRET, ...values });
}

let counter = 0;
export function grantEvent(overrides: Partial<FulfillmentEvent> = {}): FulfillmentEvent {
  counter++;
  return {
    provider: 'fastspring',
    eventId: `evt-${counter}`,
    occurredAt: '2026-01-10T12:00:00.000Z',
    action: 'grant',
    reason: 'order.completed',
    scope: 'order-1',
    live: false,
    customer: { email: 'ada@example.com', name: 'Ada Lovelace' },
    items: [{ productId: 'app', quantity: 2 }],
    ...overrides,
  };
}
