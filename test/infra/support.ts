import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { readCatalogFile } from '../../functions/config/loadCatalog';
import type { Catalog } from '../../functions/domain/catalog';

export const PROJECT_ROOT = resolve(__dirname, '../..');
export const EXAMPLE_CONFIG = join(PROJECT_ROOT, 'config/keysmith.example.json');

export function exampleCatalog(): Catalog {
  return readCatalogFile(EXAMPLE_CONFIG);
}

/**
 * Every `Template.fromStack` / `app.synth()` writes a `cdk.out*` folder under `os.tmpdir()`.
 * Point it at a per-file folder inside the project's `.tmp/` and remove that folder afterwards.
 * Setting `process.env.TMPDIR` alone is not enough: jest gives each test file a copy of the
 * environment, while `os.tmpdir()` reads the real one — so `os.tmpdir` itself is redirected
 * (aws-cdk-lib caches the answer on first use, before which this must run).
 * Call at the top level of a test file.
 */
export function useProjectTmpdir(): { dir: () => string } {
  const previous = process.env.TMPDIR;
  mkdirSync(join(PROJECT_ROOT, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(PROJECT_ROOT, '.tmp', 'infra-'));
  process.env.TMPDIR = dir; // for child processes the tests spawn
  const tmpdir = jest.spyOn(os, 'tmpdir').mockReturnValue(dir);
  afterAll(() => {
    tmpdir.mockRestore();
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir: () => dir };
}

/** An app that skips asset bundling: template tests need no esbuild run. */
export function appWithoutBundling(context: Record<string, unknown> = {}): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
}

/** Turn `{ 'Fn::Join': ['', [...]] }` into one string, `Ref`s as `${Name}`, for readable asserts. */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (Array.isArray(record['Fn::Join'])) {
      const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    if (typeof record.Ref === 'string') return `\${${record.Ref}}`;
    if (Array.isArray(record['Fn::GetAtt'])) return `\${${(record['Fn::GetAtt'] as string[]).join('.')}}`;
  }
  return JSON.stringify(value);
}
