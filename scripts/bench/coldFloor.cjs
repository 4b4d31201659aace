'use strict';
// The floor of an ingress cold start: what any implementation must load and do — node:crypto,
// node:http and node:https (TLS in AWS), node:zlib, read the event, one HMAC, JSON.parse, and the
// same three AWS calls in a row (GetSecretValue, BatchWriteItem, SendMessageBatch) against the
// same stub — and nothing else. Spawned by scripts/bench/coldStart.ts next to the real bundles.
const { readFileSync } = require('node:fs');
const crypto = require('node:crypto');
const http = require('node:http');
require('node:https');
const zlib = require('node:zlib');

const endpoint = new URL(process.env.AWS_ENDPOINT_URL_SQS);
const agent = new http.Agent({ keepAlive: true });
const call = (target, body) =>
  new Promise((resolve, reject) => {
    const req = http.request(endpoint, { method: 'POST', agent, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${target}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });

(async () => {
  const event = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  crypto.createHmac('sha256', 'secret').update(body).digest();
  JSON.parse(body.toString('utf8'));
  await call('secretsmanager.GetSecretValue', JSON.stringify({ SecretId: process.env.KEYSMITH_SECRET_ARN }));
  await call(
    'DynamoDB_20120810.BatchWriteItem',
    JSON.stringify({ RequestItems: { keysmith: [{ PutRequest: { Item: { pk: { S: 'x' }, sk: { S: 'x' }, payload: { B: zlib.gzipSync(body).toString('base64') } } } }] } }),
  );
  await call(
    'AmazonSQS.SendMessageBatch',
    JSON.stringify({ QueueUrl: process.env.KEYSMITH_QUEUE_URL, Entries: [{ Id: '0', MessageBody: body.toString('utf8').slice(0, 500), MessageGroupId: 'g', MessageDeduplicationId: 'd' }] }),
  );
  process.exit(0);
})().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(4);
});
