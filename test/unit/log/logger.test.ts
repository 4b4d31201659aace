import { generateKeyPairSync } from 'node:crypto';
import { WebhookRejection } from '../../../functions/ingress/types';
import { createLogger, maskEmail, redact, scrub } from '../../../functions/log/logger';

describe('logger redaction', () => {
  const capture = (level: 'debug' | 'info' = 'info') => {
    const lines: string[] = [];
    return { lines, log: createLogger({ service: 'test' }, (line) => lines.push(line), level) };
  };

  it.each([
    ['john.doe@gmail.com', 'j***@g***.com'],
    ['order for Ada.Lovelace+shop@mail.example.co.uk, thanks', 'order for A***@m***.uk, thanks'],
    ['two: a@b.io and zed@x.example', 'two: a***@b***.io and z***@x***.example'],
    ['ünïcode@exämple.de', 'ü***@e***.de'],
    ['no address here', 'no address here'],
    // Domain literals, quoted local parts (which may hold @ and spaces), every atext character,
    // dotless hosts and non-Latin scripts: nothing of the address but its first letters survives.
    ['user@[1.2.3.4]', 'u***@[***]'],
    ['x@[IPv6:2001:db8::1] wrote', 'x***@[***] wrote'],
    ['"john doe"@example.com', '"***@e***.com'],
    ['"a@b"@example.com', '"***@e***.com'],
    ["o'brien@example.ie", 'o***@e***.ie'],
    ['first.last+tag/x=y@shop.example.com', 'f***@s***.com'],
    ['root@localhost', 'r***@l***'],
    ['用户@例子.广告', '用***@例***.广告'],
    ['mail <bob@x.org>.', 'mail <b***@x***.org>.'],
  ])('masks %s', (input, masked) => {
    expect(maskEmail(input)).toBe(masked);
  });

  it('blanks license keys, signed tokens and private keys wherever they appear', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const jws = 'eyJhbGciOiJFZERTQSJ9.eyJsaWMiOiJsaWNfMSJ9.c2lnbmF0dXJlLWJ5dGVz';
    const text = `key ABCDE-FGHJK-MNPQR-STVWX-YZ012 token ${jws} pem ${pem.trim()} end`;
    expect(scrub(text)).toBe('key [license key] token [signed token] pem [private key] end');
    // Look-alikes that are not keys stay readable.
    expect(scrub('order 2026-01-10 id lic_abcde request abcde-fghij')).toBe('order 2026-01-10 id lic_abcde request abcde-fghij');
  });

  it('drops fields named like secrets or keys, at any depth, whatever their value', () => {
    const out = redact({
      provider: 'hotmart',
      headers: { 'x-hotmart-hottok': 'tok', authorization: 'Bearer x', cookie: 'c' },
      license: { key: 'anything', licenseKey: 'x', signingKey: 'x', licenseId: 'lic_1' },
      KEYSMITH_FASTSPRING_SECRET: 'x',
      signature: 'x',
      nested: [{ password: 'x', apiKey: 'x', credentials: 'x' }],
    });
    expect(out).toEqual({
      provider: 'hotmart',
      headers: { 'x-hotmart-hottok': '[redacted]', authorization: '[redacted]', cookie: '[redacted]' },
      license: { key: '[redacted]', licenseKey: '[redacted]', signingKey: '[redacted]', licenseId: 'lic_1' },
      KEYSMITH_FASTSPRING_SECRET: '[redacted]',
      signature: '[redacted]',
      nested: [{ password: '[redacted]', apiKey: '[redacted]', credentials: '[redacted]' }],
    });
  });

  it('logs errors by name, code and scrubbed message; bodies by length; dates as ISO', () => {
    const error = new WebhookRejection('MALFORMED', 'customer jane@example.com sent ABCDE-FGHJK-MNPQR-STVWX-YZ012');
    expect(redact({ error, body: Buffer.from('{"email":"jane@example.com"}'), at: new Date('2026-01-10T12:00:00Z') })).toEqual({
      error: { name: 'WebhookRejection', message: 'customer j***@e***.com sent [license key]', code: 'MALFORMED' },
      body: '[28 bytes]',
      at: '2026-01-10T12:00:00.000Z',
    });
  });

  it('writes one JSON line per entry with level, time, message and fields, scrubbing the message too', () => {
    const { lines, log } = capture();
    log.info('sent to jane@example.com', { provider: 'paddle', to: 'jane@example.com' });
    log.debug('not at info level');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ level: 'info', time: expect.any(String), message: 'sent to j***@e***.com', service: 'test', provider: 'paddle', to: 'j***@e***.com' });
  });

  it('stops at a depth and at 50 array items instead of logging a whole document', () => {
    const deep = { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } };
    expect(JSON.stringify(redact(deep))).toContain('[…]');
    expect(redact(Array.from({ length: 80 }, (_, i) => i))).toHaveLength(50);
  });
});
