import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LICENSE_SECRETS } from '../../functions/config/licenseSecrets';
import { PROVIDER_REGISTRY, WEBHOOK_PROVIDERS } from '../../functions/providers/registry';
import type { SecretSpec } from '../../functions/providers/types';
import { capitalize } from '../../lib/constructs/KeysmithStore';

/**
 * The docs' tables of routes and secrets, generated from functions/providers/registry.ts, between
 * `<!-- registry:NAME -->` and `<!-- /registry:NAME -->` markers. `npm run docs` rewrites them;
 * test/unit/scripts/registryDocs.test.ts fails when a doc is out of date.
 */

const code = (text: string): string => `\`${text}\``;
const cell = (text: string): string => text.replace(/\|/g, '\\|');

function size(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function secretWhat(spec: SecretSpec): string {
  const notes = [spec.optionalBecause ? `optional: ${spec.optionalBecause}` : undefined, spec.rotatable ? `\`_PREVIOUS\` accepted during a rotation` : undefined].filter(Boolean);
  return cell(`${spec.about}${notes.length > 0 ? ` — ${notes.join('; ')}` : ''}`);
}

/** Every generated block, by marker name. */
export function registryBlocks(): Record<string, string> {
  const routes = ['| route | provider | body limit |', '|---|---|---|'];
  for (const r of WEBHOOK_PROVIDERS) {
    const byPath = new Map<string, string[]>();
    for (const route of r.routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route.method]);
    const list = [...byPath].map(([path, methods]) => code(`${methods.join('|')} ${path}`)).join(', ');
    routes.push(`| ${cell(list)} | ${r.title} | ${size(r.http.maxBodyBytes)}, ${cell((r.http.contentTypes ?? ['any']).join(', '))} |`);
  }
  const secrets = ['| name | what |', '|---|---|'];
  for (const spec of [...PROVIDER_REGISTRY.flatMap((r) => r.secrets), ...LICENSE_SECRETS]) secrets.push(`| ${code(spec.name)} | ${secretWhat(spec)} |`);
  const stores = ['| secret (stack output) | holds | read by |', '|---|---|---|'];
  stores.push(
    `| license secret (${code('SecretArn')}) | ${LICENSE_SECRETS.map((s) => code(s.name)).join(', ')} | the worker, and every ingress (it predicts the license keys a grant will issue, see below) |`,
  );
  for (const r of PROVIDER_REGISTRY.filter((p) => p.secrets.length > 0)) {
    const names = r.secrets.map((s) => `${code(s.name)}${s.rotatable ? ` (+ ${code('_PREVIOUS')})` : ''}`).join(', ');
    stores.push(`| ${code(`SecretArn${capitalize(r.name)}`)} | ${names} | the ${r.title} ingress only |`);
  }
  return { routes: routes.join('\n'), secrets: secrets.join('\n'), 'secret-stores': stores.join('\n') };
}

/** The documents that carry generated blocks. */
export const DOCUMENTS = ['README.md', 'docs/security.md'];

/** `text` with every marked block replaced by its generated content. */
export function withRegistryBlocks(text: string, blocks: Record<string, string> = registryBlocks()): string {
  return text.replace(/<!-- registry:([a-z-]+) -->\n[\s\S]*?<!-- \/registry:\1 -->/g, (_whole, name: string) => {
    const block = blocks[name];
    if (block === undefined) throw new Error(`no generated block named ${name}`);
    return `<!-- registry:${name} -->\n${block}\n<!-- /registry:${name} -->`;
  });
}

/** Rewrites the blocks in every document under the project root `root`. */
export function main(root: string): void {
  for (const document of DOCUMENTS) {
    const path = join(root, document);
    const text = readFileSync(path, 'utf8');
    const next = withRegistryBlocks(text);
    if (next !== text) writeFileSync(path, next);
    console.log(`${document}: ${next === text ? 'up to date' : 'updated'}`);
  }
}
