'use strict';
// The floor of a license API cold start: what any implementation of `validate` must load and do —
// node:crypto, node:http and node:https (TLS in AWS), read the event, sha256 of the key, the same
// two AWS calls in a row (GetSecretValue for the license signing key, one Query of the key's
// partition), read the view, parse the signing key and make one Ed25519 signature — and nothing
// else. Spawned by scripts/bench/coldStart.ts next to the licensing bundle, against the same stub.
const { readFileSync } = require('node:fs');
const crypto = require('node:crypto');
const http = require('node:http');
require('node:https');

const agent = new http.Agent({ keepAlive: true });
const call = (endpoint, type, target, body) =>
  new Promise((resolve, reject) => {
    const req = http.request(new URL(endpoint), { method: 'POST', agent, headers: { 'content-type': type, 'x-amz-target': target } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : reject(new Error(`${target}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });

(async () => {
  const event = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const key = new URLSearchParams(event.body ?? '').get('license_key') ?? '';
  const hash = crypto.createHash('sha256').update(key.trim()).digest('hex');
  const secret = await call(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER, 'application/x-amz-json-1.1', 'secretsmanager.GetSecretValue', JSON.stringify({ SecretId: process.env.KEYSMITH_SECRET_ARN }));
  const found = await call(
    process.env.AWS_ENDPOINT_URL_DYNAMODB,
    'application/x-amz-json-1.0',
    'DynamoDB_20120810.Query',
    JSON.stringify({ TableName: process.env.KEYSMITH_TABLE_NAME, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `KEY#${hash}` } } }),
  );
  const view = JSON.parse(found.Items?.find((item) => item.sk?.S === 'VIEW')?.view?.S ?? 'null');
  if (!view) throw new Error('floor: the Query found no view');
  const pem = JSON.parse(secret.SecretString).KEYSMITH_LICENSE_SIGNING_KEY.replace(/\\n/g, '\n');
  const payload = Buffer.from(JSON.stringify({ iss: 'keysmith', sub: view.licenseId, product: view.product, seats: view.seats, iat: Math.floor(Date.now() / 1000) }));
  crypto.sign(null, payload, crypto.createPrivateKey(pem));
  process.exit(0);
})().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(4);
});
