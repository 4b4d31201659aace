import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { unescapePemText } from '../shared/secretForms';
import type { FuzzHooks, FuzzRequest, SecretValues } from '../types';
import { signFields } from './sample';

/** The fuzzer's view of Paddle Classic (scripts/soak/fuzz): an RSA signature that is itself a form field. */

/** The form text of a request: the POST body, or for a GET the query string. */
function formOf(request: FuzzRequest): { text: string; rebuild(text: string): FuzzRequest } {
  if (request.method === 'GET') {
    const cut = request.target.indexOf('?');
    const path = cut < 0 ? request.target : request.target.slice(0, cut);
    return { text: cut < 0 ? '' : request.target.slice(cut + 1), rebuild: (text) => ({ ...request, target: `${path}?${text}` }) };
  }
  return { text: request.body.toString('utf8'), rebuild: (text) => ({ ...request, body: Buffer.from(text) }) };
}

function devKey(secrets: SecretValues): KeyObject {
  const pem = secrets.KEYSMITH_DEV_PADDLE_PRIVATE_KEY;
  if (!pem) throw new Error('KEYSMITH_DEV_PADDLE_PRIVATE_KEY is not set: only the local stack has a Paddle private key');
  return createPrivateKey(unescapePemText(pem));
}

export const paddleFuzz: FuzzHooks = {
  body: 'form',
  classify: (request, base) => {
    const fields = new URLSearchParams(request.method === 'GET' ? request.rawQuery : request.body.toString('utf8'));
    if (base?.provider !== 'paddle') return { kind: 'reject', why: 'not a signed Paddle request' };
    if (fields.getAll('p_signature').every((s) => s === '')) return { kind: 'reject', why: 'no p_signature' };
    return { kind: 'genuine' };
  },
  resign: (request, secrets) => {
    const form = formOf(request);
    const fields = [...new URLSearchParams(form.text)].filter(([n]) => n !== 'p_signature');
    return form.rebuild(new URLSearchParams([...fields, ['p_signature', signFields(new Map(fields), devKey(secrets))]]).toString());
  },
  targets: () => ['/webhooks/paddle', '/webhooks/paddle/alerts'],
  forged: (base, others, n, junk, { secrets, attacker }) => {
    const form = formOf(base);
    const fields = [...new URLSearchParams(form.text)].filter(([k]) => k !== 'p_signature');
    const other = others.length > 0 ? others[n % others.length] : undefined;
    const otherSig = other ? (new URLSearchParams(formOf(other).text).get('p_signature') ?? '') : '';
    const variants: [string, string | null][] = [
      ["signed with an attacker's RSA key", signFields(new Map(fields), attacker.rsa)],
      ["another request's signature", otherSig],
      ['RSA-SHA256 by the real key', sign('sha256', Buffer.from(new URLSearchParams(fields).toString()), devKey(secrets)).toString('base64')],
      ['empty p_signature', ''],
      ['junk p_signature', junk],
      ['no p_signature', null],
    ];
    const [label, sig] = variants[n % variants.length]!;
    return { label, request: form.rebuild(new URLSearchParams(sig === null ? fields : [...fields, ['p_signature', sig]]).toString()) };
  },
};
