import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { Catalog } from '../../functions/domain/catalog';
import { bundledConfigDefine } from './bundledConfigDefine';

/**
 * The newest Node.js runtime this aws-cdk-lib offers (cdk-nag's L1 passes without an
 * acknowledgement). One constant, so the next upgrade is one line.
 */
export const KEYSMITH_RUNTIME = Runtime.NODEJS_24_X;

export interface KeysmithFunctionProps {
  /** Lambda entry file, relative to `projectRoot`. */
  readonly entry: string;
  /** Folder holding `functions/`, `tsconfig.json` and `package-lock.json`. */
  readonly projectRoot: string;
  /** The validated catalog, inlined into the bundle (never read from disk in Lambda). */
  readonly catalog: Catalog;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly description: string;
  /** Non-secret settings only: ARNs, URLs, names. */
  readonly environment: Record<string, string>;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

/**
 * A keysmith Lambda: arm64, newest Node, one minified esbuild bundle built with the local esbuild
 * (no Docker), the catalog inlined, its own log group with a bounded retention.
 *
 * The AWS SDK clients are bundled too (`externalModules: []`), so the versions in the lock file
 * are the versions that run — not whatever the runtime ships this month.
 */
export class KeysmithFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: KeysmithFunctionProps) {
    // The log group must exist before the function so its name is ours, not Lambda's default.
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention ?? RetentionDays.THREE_MONTHS });
    super(scope, id, {
      entry: join(props.projectRoot, props.entry),
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      handler: 'handler',
      runtime: KEYSMITH_RUNTIME,
      architecture: Architecture.ARM_64,
      timeout: Duration.seconds(props.timeoutSeconds),
      memorySize: props.memoryMb,
      description: props.description,
      environment: props.environment,
      logGroup,
      bundling: {
        format: OutputFormat.CJS,
        minify: true,
        // No source maps: they double the bundle and slow cold start; logs carry error codes.
        sourceMap: false,
        externalModules: [],
        forceDockerBundling: false,
        define: bundledConfigDefine(props.catalog),
      },
    });
  }
}
