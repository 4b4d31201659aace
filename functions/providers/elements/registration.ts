import { pemKeyPair } from '../shared/secretForms';
import type { WebhookRegistration } from '../types';
import { CONTENT_TYPES, MAX_BODY_BYTES } from './constants';
import { offerKeyTable, parseOfferKeys } from './keys';

/** The Marketplace Elements offer the dev key pair belongs to. */
export const DEV_ELEMENTS_OFFER = 'dev-offer';

/** Marketplace Elements, as the stack, the local stack, the CLI, the soak and the docs see it. */
export const elementsRegistration: WebhookRegistration = {
  name: 'elements',
  title: 'Marketplace Elements',
  routes: [{ method: 'POST', path: '/webhooks/elements/{offerId}' }],
  entry: 'functions/providers/elements/handler.ts',
  load: () => import('./handler'),
  http: { maxBodyBytes: MAX_BODY_BYTES, contentTypes: CONTENT_TYPES },
  secrets: [
    {
      name: 'KEYSMITH_ELEMENTS_OFFER_KEYS',
      kind: 'key-table',
      about: 'a JSON object {"<offerId>": <public key PEM, JWK or list of them>} of the offers you sell',
      problem: (value) => {
        const table = parseOfferKeys(value);
        if ('problem' in table) return table.problem;
        for (const [offer, entry] of table.offers) if ('problem' in entry) return `offer "${offer.slice(0, 60)}": the key ${entry.problem}`;
        return undefined;
      },
      tryValue: async (values) => {
        const name = 'KEYSMITH_ELEMENTS_OFFER_KEYS';
        const table = offerKeyTable(values[name] ?? '');
        if ('problem' in table) return { name, status: 'fail', detail: `${name} cannot be read: ${table.problem}` };
        const broken = [...table.offers].filter(([, entry]) => 'problem' in entry);
        if (broken.length > 0) {
          const [offer, entry] = broken[0]!;
          const more = broken.length > 1 ? ` and ${broken.length - 1} more offer(s)` : '';
          return { name, status: 'fail', detail: `${name}: offer "${offer.slice(0, 60)}" has no usable key (${(entry as { problem: string }).problem})${more}` };
        }
        return { name, status: 'ok', detail: `${name}: ${table.offers.size} offer(s), every key usable` };
      },
      dev: {
        companions: ['KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS'],
        signsWith: 'KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS',
        generate: () => {
          const pair = pemKeyPair('ec-p256');
          return {
            KEYSMITH_ELEMENTS_OFFER_KEYS: JSON.stringify({ [DEV_ELEMENTS_OFFER]: pair.publicPem }),
            KEYSMITH_DEV_ELEMENTS_PRIVATE_KEYS: JSON.stringify({ [DEV_ELEMENTS_OFFER]: pair.privatePem }),
          };
        },
      },
    },
  ],
  provider: async () => (await import('./index')).elements,
  sample: async () => (await import('./sample')).elementsSample,
  // The offer id (a URL path parameter) is not logged: it is recovered by matching the recorded event ids.
  replay: { needsSecrets: true, rebuild: async () => (await import('./replay')).rebuildVerified },
  fuzz: async () => (await import('./fuzz')).elementsFuzz,
  benchFloor: async () => (await import('./bench')).elementsFloor,
};
