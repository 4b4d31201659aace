import type { Check } from './ordersPhase';
import type { SoakReport } from './soak';

/** RELIABILITY.md from a soak report: method, fault rates, sizes, results, the bound, the oracle. */
export function renderReliability(report: SoakReport, meta: { command: string }): string {
  const o = report.orders;
  const f = report.fuzz;
  const opt = report.options;
  const pct = (x: number) => `${+(x * 100).toFixed(2)} %`;
  const n = (x: number) => x.toLocaleString('en-US');
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines: string[] = [];
  const p = (...text: string[]) => lines.push(...text);

  p('# Reliability', '');
  p(
    `This file is written by \`npm run soak\` (scripts/soak/). It drives the local stack — the real AWS-API emulators, the real`,
    `ingress functions behind the API Gateway stand-in, the real worker behind the SQS event-source poller — with`,
    `${n(opt.orders)} orders while faults are injected, then with ${n(opt.fuzzCases)} hostile requests, and records what held.`,
    `\`npm test\` runs the same soak at 500 orders and 2,000 fuzzed requests (test/integration/soak/).`,
    '',
  );
  p(`**Verdict: ${report.ok ? 'every assertion held' : 'ASSERTIONS FAILED'}.**`, '');

  p('## Run', '');
  p('| | |', '|---|---|');
  p(`| date | ${report.startedAt} (took ${s(report.ms)}) |`);
  p(`| command | \`${meta.command}\` |`);
  p(`| seed | ${opt.seed} |`);
  p(`| machine | ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.platform}, Node ${report.machine.node} |`);
  p(`| sizes | ${n(opt.orders)} orders, ${n(opt.fuzzCases)} fuzzed requests; ${opt.concurrency} HTTP clients |`);
  p(
    `| queue | FIFO, maxReceiveCount ${report.settings.maxReceiveCount} and batch size ${report.settings.batchSize} as deployed; visibility timeout ${opt.visibilityTimeoutSeconds} s (deployed: ${report.settings.visibilityTimeoutSeconds} s, 6 × the worker timeout); up to ${opt.workerConcurrency} concurrent worker invocations (deployed: ${report.settings.maxConcurrency}, to pace SES; more here so the run takes minutes) |`,
  );
  p(
    `| worker backoff | the worker's own (\`min(${report.settings.retryBackoff.baseSeconds} s × 2^(receives−1), ${report.settings.retryBackoff.maxSeconds} s)\` through ChangeMessageVisibility), scaled by ${opt.faults.backoffScale} (at least 1 s) so the run takes minutes |`,
  );
  p('');

  p('## Assertions', '');
  p('| assertion | required | found | |', '|---|---|---|---|');
  for (const check of report.checks) p(`| ${check.name} | ${check.required} | ${check.found} | ${check.ok ? 'holds' : '**FAILED**'} |`);
  p('');
  const failed = report.checks.filter((c: Check) => !c.ok);
  if (failed.length > 0) {
    p('### Failures', '');
    for (const check of failed) {
      p(`- **${check.name}**`);
      for (const example of check.examples ?? []) p(`  - ${example.replace(/\|/g, '\\|')}`);
    }
    p('');
  }

  if (o) {
    const w = o.worker;
    const crashes = Object.values(w.crashes).reduce((a, b) => a + b, 0);
    p('## Orders', '');
    p(
      `Each order is a purchase built by the provider's own signed sample builder (\`functions/providers/<name>/sample.ts\`, secrets from`,
      `the stack's dev secrets) with its own order id and customer address; ${pct(opt.refundRate)} of them are also refunded with the`,
      `provider's refund event (the \`refundEvent\` its sample builder declares: FastSpring \`return.created\`, Paddle \`payment_refunded\`,`,
      `Stripe \`charge.refunded\`, Gumroad's refund ping, …), and ${pct(opt.refundFirstRate)} of those refunds are sent *before* their purchase.`,
      `**Every delivery is sent twice with identical bytes**: ${pct(opt.concurrentDuplicateRate)} of them as two concurrent copies, the rest`,
      `with the copy sent later — possibly after the order's other event (a late duplicate). Orders run side by side on`,
      `${opt.concurrency} clients; each order's deliveries go out in its schedule's order.`,
      '',
      `What every order must end as is computed before anything is sent: the purchase request goes through the provider's`,
      `verify → parse → normalize in-process, and \`apply\` gives the licenses (ids and keys) it must own and whether an email is`,
      `owed (Paddle: never — Paddle mails keysmith's answer itself; a refund that came first: none, the licenses are issued revoked).`,
      `After the queue drained, the table, the SES emulator's mailbox and both queues are read back and compared.`,
      '',
    );
    p('| provider | orders | refunded | refund first | licenses | emails owed |', '|---|---|---|---|---|---|');
    for (const [provider, row] of Object.entries(o.byProvider)) p(`| ${provider} | ${n(row.orders)} | ${n(row.refunded)} | ${n(row.refundFirst)} | ${n(row.licenses)} | ${n(row.emailsOwed)} |`);
    p('');
    p(
      `Deliveries: ${n(o.sent.requests)} requests (${n(o.sent.concurrentPairs)} concurrent pairs) in ${s(o.sendMs)}; answers ${Object.entries(o.sent.statuses)
        .map(([status, count]) => `${n(count)} × ${status}`)
        .join(', ')}. The queue drained ${s(o.drainMs)} after the last request.`,
      '',
    );

    p('### Faults injected', '');
    p('| fault | how | rate | injected |', '|---|---|---|---|');
    p(
      `| SES throttling | HTTP 400 \`Throttling\` / "Maximum sending rate exceeded." answered in place of the emulator, below the SDK: the SDK parses, classifies and retries it (3 attempts) | ${pct(opt.faults.sesThrottleRate)} of attempts | ${n(w.ses.throttled)} of ${n(w.ses.attempts)} SES attempts |`,
    );
    p(
      `| DynamoDB throttling | HTTP 400 \`ThrottlingException\` the same way (the SDK makes up to 4 attempts) | ${pct(opt.faults.dynamoThrottleRate)} of attempts | ${n(w.dynamodb.throttled)} of ${n(w.dynamodb.attempts)} DynamoDB attempts |`,
    );
    p(
      `| worker crash | a delivery is doomed with this probability and dies at one of the four checkpoints of \`processEvent\`, drawn uniformly; if it never reaches that one, after all its work and before its ack | ${pct(opt.faults.crashRate)} of deliveries | ${n(crashes)} of ${n(w.records)} deliveries |`,
    );
    p(`| delays | random 0–${opt.faults.maxDelayMs} ms before every SDK attempt and at every checkpoint | always | |`);
    p('');
    p('| crash point | crashes |', '|---|---|');
    for (const [point, count] of Object.entries(w.crashes)) p(`| ${point} | ${n(count)} |`);
    p('');
    p(
      '`after-email-sent` is the documented window (see "The bound"). `after-lookups` comes only when the worker writes the',
      'license lookups itself; the ingress writes them ahead for every grant it can predict, so a delivery doomed there',
      'usually never reaches it and dies before its ack instead — after all its work, so its redelivery is a pure duplicate.',
      '',
    );
    p(
      `Worker: ${n(w.invocations)} invocations, ${n(w.records)} deliveries, ${n(w.failedRecords)} reported failed (retried by SQS), ${n(w.backoffs)} backoffs set;`,
      `SES accepted ${n(w.emailsAccepted)} emails (${n(w.ses.succeeded.SendEmail ?? 0)} SendEmail calls reached the emulator and succeeded), ${n(w.emailFailures)} sends failed after the SDK's retries.`,
      `Deliveries by receive count (the budget is ${report.settings.maxReceiveCount}): ${Object.entries(w.receiveCounts)
        .map(([count, times]) => `${count}: ${n(times)}`)
        .join(', ')}.`,
      `Poller: ${n(o.poller.batches)} batches, ${n(o.poller.delivered)} records delivered, ${n(o.poller.deleted)} deleted, ${n(o.poller.deadLettered)} dead-lettered.`,
      '',
    );

    const sesFail = opt.faults.sesThrottleRate ** 3;
    const ddbFail = opt.faults.dynamoThrottleRate ** 4;
    const perDelivery = opt.faults.crashRate + sesFail + 6 * ddbFail;
    p('### The receive budget', '');
    p(
      `A message goes to the DLQ after ${report.settings.maxReceiveCount} failed deliveries. Throttling alone fails a delivery only when the SDK's retries`,
      `are all throttled too: ${pct(opt.faults.sesThrottleRate)}³ = ${sesFail.toExponential(1)} for an SES send, ${pct(opt.faults.dynamoThrottleRate)}⁴ = ${ddbFail.toExponential(1)}`,
      `per DynamoDB call (a delivery makes up to about six). With the crashes, a delivery fails with p ≈ ${perDelivery.toFixed(4)}, so`,
      `all ${report.settings.maxReceiveCount} deliveries of a message fail with p ≈ ${perDelivery ** report.settings.maxReceiveCount < 1e-12 ? '< 1e-12' : (perDelivery ** report.settings.maxReceiveCount).toExponential(1)} — the DLQ must stay empty, and`,
      `the receive counts above show how much of the budget was used. The worker's backoff (ChangeMessageVisibility) spaces the`,
      `retries. The visibility timeout must exceed the longest batch, or a message that reappears while its batch still runs`,
      `spends a receive for nothing: with a 1 s timeout, batches slowed by the SDK's throttling backoff under CPU contention sent`,
      `messages to the DLQ in a trial run — an artifact of the shortened timeout (deployed: ${report.settings.visibilityTimeoutSeconds} s), hence ${opt.visibilityTimeoutSeconds} s here.`,
      '',
    );

    const e = o.verification.emails;
    p('### The bound', '');
    p(
      `README "Exactly once" documents one window: the email is sent, then marked sent; a crash between the two sends it once`,
      `more on redelivery — **at most one extra email per crash in that window**. Everything else must be exactly once.`,
      '',
      `| | |`,
      `|---|---|`,
      `| emails owed | ${n(e.expected)} |`,
      `| emails delivered | ${n(e.delivered)} |`,
      `| extra emails | ${n(e.extra)} (in ${n(e.ordersWithExtra)} orders) |`,
      `| crashes between an accepted send and its mark | ${n(e.windowCrashes)} |`,
      `| bound (extras ≤ window crashes, per order) | ${e.extra <= e.windowCrashes && report.checks.find((c) => c.name.startsWith('exactly one email'))?.ok ? 'met' : '**not met**'} |`,
      '',
      `No email is missing, and every email carries exactly its order's keys. License sets: ${n(o.verification.licenseSets)} of`,
      `${n(o.orders)} orders own exactly the derived licenses (${n(o.verification.licenses)} licenses); DLQ: ${n(o.verification.dlq)} messages.`,
      '',
    );
  }

  const l = report.subscriptions;
  if (l) {
    p('## Long-lived subscriptions', '');
    p(
      `${n(l.subscriptions)} FastSpring subscriptions (one in 50 a fleet of 100–500 seats) lived up to ${report.options.subscriptions.months} simulated months each — monthly renewals, cancellations`,
      'and un-cancellations, refunds and deactivations, the seller suspending, reinstating and revoking single licenses — and',
      `${n(l.disputes)} Paddle orders went through dispute sequences (won, lost, refunded in between), and ${n(l.stripe ?? 0)} Stripe subscriptions`,
      'renewed in either API shape and had their payments disputed or refunded — events that name only the payment intent, found',
      `through the payment links their invoices wrote. ${n(l.events)} distinct events in`,
      `${n(l.deliveries)} deliveries (some sent twice; every purchase resent at the end), through the same faulty worker, in ${s(l.ms)}.`,
      "Each order's final statuses, expiries and scheduled end were predicted by a model of the holds table, not by `apply`.",
      '',
      '| assertion | required | found | held |',
      '|---|---|---|---|',
      ...l.checks.map((c) => `| ${c.name} | ${c.required} | ${c.found} | ${c.ok ? 'yes' : '**no**'} |`),
      '',
      `**Largest item written:** ${n(l.largestItem.bytes)} bytes (\`${l.largestItem.key.replace(/#.*\//, '#…/')}\`) — every write of the worker goes through its store, which measures it.`,
      '',
    );
  }

  if (f) {
    p('## Fuzzing', '');
    p(
      `${n(f.cases)} requests drawn with fast-check (seed ${f.seed}; chunk *k* of 1,000 cases uses seed ${f.seed} + *k*) against the`,
      `running stack's HTTP API, every route, in ${s(f.ms)}. The ingress functions are the real provider modules behind the real`,
      `handler and the real SQS queue; only the queue port notes, per request (AsyncLocalStorage keyed by API Gateway's request id),`,
      `which events SQS accepted — so every enqueued event is pinned on the request that caused it.`,
      '',
      '**Families**: random bytes (random route, method, content type, body); byte-level mutations of genuine requests (bit flips,',
      'truncation, appended/inserted/deleted/repeated bytes); structural mutations (JSON: deleted/replaced/added fields, wrong types,',
      'huge strings, `__proto__`, deep nesting, huge arrays, BOM, trailing garbage; Paddle forms: fields deleted, changed, added,',
      'duplicated, re-ordered, re-encoded); the same with the content **re-signed** properly (to reach parse and normalize);',
      'header mutations (removed, duplicated, case, content type, values changed or padded); route mutations (paths, methods,',
      'offer ids, Selldone URL secrets); forged signatures (wrong key, another body, hex, truncated, SHA-1, empty, missing;',
      "Paddle: an attacker's RSA key, another request's signature, RSA-SHA256; Hotmart: wrong, prefixed, re-cased, doubled or",
      'body-borne hottoks); JWT attacks on Marketplace Elements (`alg: none`, HS256 keyed with the offer public key as PEM, escaped',
      'PEM or DER, expired and not-yet-valid tokens signed by the real key, another EC key, embedded `jwk`, `kid` traversal, `jku`,',
      'RS256/PS256/ES384 confusion, swapped payload, DER signatures, `crit`, `b64: false`, wrong offer); bodies at and over each',
      "provider's limit and over the API's 10 MiB.",
      '',
      '**The oracle.** Each case carries an expectation fixed by how it was built, never by running the code under test:',
      '',
      '- *reject* — nobody holding the secret made it (forged or missing signature, wrong token, random bytes, a JWT attack), or',
      '  it must be refused anyway (over a size limit, no route). Required: a 4xx and nothing enqueued.',
      "- *genuine* — a genuinely signed request changed only where the signature does not decide (a header name's case, a",
      '  duplicated or padded signature header, another content type, form fields re-ordered or re-encoded to the same values,',
      '  the JSON envelope around a JWT). It may be refused or accepted, but every enqueued event must be one of the events the',
      '  genuine request means: an event the signer never sent is a forgery. FastSpring signs bytes, so there a changed body is',
      '  *reject*; Paddle signs the decoded fields and Elements the JWT, so there it is *genuine* and the event comparison decides.',
      '- *authentic* — the sender holds the secret: content fuzzed and then re-signed, or Hotmart/Selldone with the right token',
      '  (neither signs its body, so a mutated body with the right hottok or URL secret is legitimately accepted). Anything may be',
      '  enqueued.',
      '',
      'Every case, whatever its expectation: no answer ≥ 500. Also checked: the worker received only events some accepted request',
      'enqueued; no delivery-log record (written only for verified requests) exists for a request that had to be refused; DLQ empty.',
      '',
    );
    p('| family | cases | answers |', '|---|---|---|');
    for (const [family, row] of Object.entries(f.families)) {
      p(
        `| ${family} | ${n(row.cases)} | ${Object.entries(row.statuses)
          .sort(([a], [b]) => Number(a) - Number(b))
          .map(([status, count]) => `${n(count)} × ${status === '0' ? 'closed' : status}`)
          .join(', ')} |`,
      );
    }
    p('');
    p(
      `Expectations: ${n(f.expectations.reject ?? 0)} reject, ${n(f.expectations.genuine ?? 0)} genuine, ${n(f.expectations.authentic ?? 0)} authentic.`,
      `Answers ≥ 500: **${n(f.fivexx)}**. Events enqueued: **${n(f.enqueued.reject)} by requests that had to be refused**, ${n(f.enqueued.unattributed)} unattributed,`,
      `${n(f.enqueued.genuine)} by genuine requests (all the signer's own events), ${n(f.enqueued.authentic)} by authentic ones.`,
      `The worker received ${n(f.workerReceived)} messages (${n(f.workerUnaccounted)} unaccounted for).`,
      '',
    );
    if (f.failures.length > 0) {
      p('Failing cases (first 50; `#` is the case index):', '');
      for (const failure of f.failures)
        p(`- #${failure.index} ${failure.family} "${failure.label}" on ${failure.base ?? 'no base'} (expected ${failure.expect}): answered ${failure.status}; ${failure.problem}`);
      p('');
    }
  }

  p('## Logs', '');
  p(`Handler log lines at error level: ${n(report.handlerLogs.error)}.`, '');
  if (report.handlerLogs.errors.length > 0) {
    for (const line of report.handlerLogs.errors.slice(0, 10)) p(`    ${line}`);
    p('');
  }

  p('## Reproduce', '');
  p(
    '```',
    meta.command,
    '```',
    '',
    'KEYSMITH_SOAK_ORDERS, KEYSMITH_SOAK_FUZZ, KEYSMITH_SOAK_SEED, KEYSMITH_SOAK_CONCURRENCY and KEYSMITH_SOAK_WORKER_CONCURRENCY',
    'set size, seed and parallelism. The seed fixes the order plan, the fault decisions and the fuzz cases; which call a fault',
    'hits first still depends on timing. `test/unit/providers/fuzz.property.test.ts` runs the same fuzz cases and oracle against',
    '`runIngress` in-process (KEYSMITH_FUZZ_RUNS, KEYSMITH_FUZZ_SEED).',
    '',
  );
  return `${lines.join('\n')}`;
}
