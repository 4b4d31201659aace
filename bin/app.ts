/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (via bin/cdk-app.cjs).
 *
 * Config: context `config` (`-c config=path`), else env `KEYSMITH_CONFIG`, else `keysmith.config.json`
 * in this folder, else the example (with a synth warning).
 * Stack name: context `stackName`, else `Keysmith`.
 * Alarm mail: context `alarmEmail` (`-c alarmEmail=ops@example.com`), else env
 * `KEYSMITH_ALARM_EMAIL`; the address gets an SNS subscription to confirm. Without one, subscribe
 * to the `AlarmTopicArn` output yourself (docs/observability.md).
 */
import { App } from 'aws-cdk-lib';
import { buildKeysmithApp } from '../lib/keysmith-stack';

const app = new App();
try {
  buildKeysmithApp(app, {
    stackProps: { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } },
  });
} catch (error) {
  // A bad config is the seller's to fix: show the message, not a stack trace.
  console.error(`keysmith: ${(error as Error).message}`);
  process.exit(1);
}
app.synth();
