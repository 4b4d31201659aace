import { Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildKeysmithApp, KeysmithStack } from '../../lib/keysmith-stack';
import { appWithoutBundling, EXAMPLE_CONFIG, useProjectTmpdir } from './support';

useProjectTmpdir();

/** Every acknowledgement recorded in the tree: rule id → reasons. */
function acknowledgements(root: IConstruct): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const rule = id.replace(/^annotation::/i, '');
        found.set(rule, [...(found.get(rule) ?? []), reason]);
      }
    }
  }
  return found;
}

describe('cdk-nag AwsSolutionsChecks', () => {
  it('synthesizes the app with no unacknowledged finding', () => {
    // Prepare
    const app = appWithoutBundling();
    buildKeysmithApp(app, { configPath: EXAMPLE_CONFIG });
    // Act
    const assembly = app.synth();
    // Assess
    expect(assembly.getStackByName('Keysmith').template.Resources).toBeDefined();
  });

  it('is really wired in: a non-compliant resource fails synth with its rule id', () => {
    const app = appWithoutBundling();
    const stack = buildKeysmithApp(app, { configPath: EXAMPLE_CONFIG });
    new Queue(stack, 'PlainQueue');
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3[\s\S]*PlainQueue|PlainQueue[\s\S]*AwsSolutions-SQS3/);
  });

  it('acknowledges exactly the findings the stack produces, each with a real reason', () => {
    // What the stack acknowledges …
    const app = appWithoutBundling();
    buildKeysmithApp(app, { configPath: EXAMPLE_CONFIG, nag: false });
    const acknowledged = acknowledgements(app);
    for (const reasons of acknowledged.values()) for (const reason of reasons) expect(reason.length).toBeGreaterThan(40);

    // … versus what cdk-nag finds when nothing is acknowledged.
    const spy = jest.spyOn(KeysmithStack.prototype as never, 'acknowledgeNagFindings' as never).mockImplementation((() => undefined) as never);
    try {
      const bare = appWithoutBundling();
      buildKeysmithApp(bare, { configPath: EXAMPLE_CONFIG, nag: false });
      const report = new AwsSolutionsChecks().validateScope(bare);
      const found = report.violations.map((v) => v.ruleName).sort();
      expect([...acknowledged.keys()].sort()).toEqual(found);
      // Minimal: only these kinds of findings. No IAM5 at all: every grant names its actions and
      // resources (no `index/*`, no `*`) since the grants became explicit (docs/security.md).
      expect([...new Set(found.map((id) => id.replace(/\[.*$/, '')))]).toEqual(['AwsSolutions-APIG4', 'AwsSolutions-IAM4', 'AwsSolutions-SMG4', 'AwsSolutions-SQS3']);
      expect(found.filter((id) => id.startsWith('AwsSolutions-IAM5'))).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});
