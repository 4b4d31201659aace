import { createPrivateKey, createPublicKey } from 'node:crypto';
import { resolve } from 'node:path';
import type { Entitlement } from '../../../functions/domain/entitlement';
import { enqueue, manualEvent } from '../../../lib/cli/manual';
import { localTarget } from '../../../lib/cli/target';
import type { LocalStackOptions } from '../../../lib/local/stack';
import { type Harness, startHarness } from '../e2e/support';
import { rawRequest } from '../local/support';

/** The catalog these tests run with: products that differ in seats, format, budget and test policy. */
export const LICENSING_CONFIG = resolve(__dirname, '../../fixtures/licensing.config.json');

export async function startLicensingHarness(options: Omit<LocalStackOptions, 'port' | 'stateDir' | 'log'> = {}): Promise<Harness> {
  return startHarness({ configPath: LICENSING_CONFIG, ...options });
}

export interface ApiCall {
  status: number;
  body: Record<string, any>;
}

/** POST to the license API as an app would: form-encoded by default, JSON with `json: true`. */
export async function licenseApi(h: Harness, route: 'activate' | 'validate' | 'deactivate', fields: Record<string, string>, json = false): Promise<ApiCall> {
  const body = json ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
  const response = await rawRequest(`${h.stack.licensingUrl}/v1/licenses/${route}`, {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: Buffer.from(body),
  });
  return { status: response.status, body: JSON.parse(response.body.toString('utf8') || '{}') };
}

/**
 * A genuine signed FastSpring order for `product` (a `match` id of LICENSING_CONFIG) with
 * `quantity` units, delivered through the local stack and processed; resolves with its order.
 */
export async function buyOrder(h: Harness, product: string, quantity = 1, options: { live?: boolean } = {}): Promise<Entitlement> {
  const template = await h.sample('fastspring', { email: `buyer-${product}-${Date.now()}@example.com` });
  const payload = JSON.parse(template.body.toString('utf8'));
  const completed = payload.events[0];
  const item = { ...completed.data.items[1], product, quantity, subscription: undefined };
  delete item.subscription;
  completed.data.items = [item];
  if (options.live) {
    completed.live = true;
    completed.data.live = true;
  }
  const request = await h.sample('fastspring', { file: Buffer.from(JSON.stringify(payload)) });
  const answer = await h.send(request);
  if (answer.status !== 200) throw new Error(`order not accepted: ${answer.status} ${answer.body.toString()}`);
  await h.stack.poller.drain(60_000);
  const [order] = await h.store.findByOrder('fastspring', request.orderId);
  if (!order) throw new Error(`order ${request.orderId} was not recorded`);
  return order.state;
}

/** A seller's action from the CLI (suspend, reinstate, revoke), applied by the worker. */
export async function sellerAction(h: Harness, state: Entitlement, action: 'suspend' | 'reinstate' | 'revoke', licenseId: string): Promise<void> {
  const target = localTarget(h.stack.info());
  await enqueue(target, [manualEvent(state, action, `test ${action}`, { targets: [licenseId] })]);
  await h.stack.poller.drain(60_000);
}

/** The license public key as PEM: what a seller ships in the app. */
export function publicKeyPem(h: Harness): string {
  const pem = h.secrets.KEYSMITH_LICENSE_SIGNING_KEY!;
  return createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'pem' }).toString();
}
