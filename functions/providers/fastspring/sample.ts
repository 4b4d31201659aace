import type { SampleBuilder } from '../sample';
import { randomId } from '../sample';
import { hmacSha256 } from '../shared/crypto';
import orderCompleted from './fixtures/order-completed.json';

/** FastSpring samples: the documented order.completed envelope with fresh ids, HMAC-signed. */
export const fastspringSample: SampleBuilder = {
  events: ['order.completed'],
  build({ secrets, file, email, orderId }) {
    const secret = secrets.KEYSMITH_FASTSPRING_SECRET;
    if (!secret) throw new Error('KEYSMITH_FASTSPRING_SECRET is not set: cannot sign a FastSpring request');
    let body: Buffer;
    let order: string;
    let eventIds: string[];
    if (file) {
      body = file;
      const parsed = JSON.parse(file.toString('utf8')) as { events?: { id?: string; data?: { id?: string } }[] };
      order = parsed.events?.[0]?.data?.id ?? '';
      eventIds = (parsed.events ?? []).map((e) => e.id ?? '');
    } else {
      const sample = structuredClone(orderCompleted) as typeof orderCompleted;
      const event = sample.events[0]!;
      order = orderId ?? randomId('KS');
      event.id = randomId();
      event.created = Date.now();
      event.data.id = order;
      event.data.order = order;
      event.data.reference = `KEYSMITH-${order.slice(2, 10).toUpperCase()}`;
      if (email) {
        event.data.customer.email = email;
        event.data.account.contact.email = email;
      }
      body = Buffer.from(JSON.stringify(sample));
      eventIds = [event.id];
    }
    return {
      method: 'POST',
      path: '/webhooks/fastspring',
      headers: { 'content-type': 'application/json', 'x-fs-signature': hmacSha256(secret, body).toString('base64') },
      body,
      orderId: order,
      eventIds,
    };
  },
};
