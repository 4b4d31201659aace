'use strict';
// One cold start: require a Lambda bundle, invoke its handler once with the event in a file, exit.
// Spawned fresh by scripts/bench/coldStart.ts for every sample. The outcome travels in the exit
// code (0: a 2xx answer — for the license API a valid one — or no batch failures, 3: anything
// else), so the child writes nothing a bare `node -e 0` would not.
const { readFileSync } = require('node:fs');
const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 10000 };
const { handler } = require(bundle);
Promise.resolve(handler(event, context)).then(
  (result) => {
    let ok = result && typeof result === 'object' && 'statusCode' in result ? result.statusCode >= 200 && result.statusCode < 300 : !result?.batchItemFailures?.length;
    // The license API answers a known but unusable license with 200 and `valid: false`.
    if (ok && typeof result.body === 'string' && result.body.startsWith('{"valid":false')) ok = false;
    process.exit(ok ? 0 : 3);
  },
  (error) => {
    process.stderr.write(`\n${error?.stack}\n`);
    process.exit(4);
  },
);
