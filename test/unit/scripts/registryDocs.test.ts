import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEBHOOK_PROVIDERS } from '../../../functions/providers/registry';
import { DOCUMENTS, registryBlocks, withRegistryBlocks } from '../../../scripts/docs/registryDocs';

const ROOT = join(__dirname, '../../..');

describe('docs generated from the registry', () => {
  it.each(DOCUMENTS)('%s is up to date (run `npm run docs` after changing a registration)', (document) => {
    const text = readFileSync(join(ROOT, document), 'utf8');
    expect(text).toMatch(/<!-- registry:[a-z-]+ -->/);
    expect(withRegistryBlocks(text)).toBe(text);
  });

  it('lists every route and every secret of every provider', () => {
    const blocks = registryBlocks();
    for (const registration of WEBHOOK_PROVIDERS) {
      for (const route of registration.routes) expect(blocks.routes).toContain(route.path);
      for (const secret of registration.secrets) {
        expect(blocks.secrets).toContain(`\`${secret.name}\``);
        expect(blocks['secret-stores']).toContain(`\`${secret.name}\``);
      }
    }
  });

  it('refuses a marker it has no block for, instead of leaving it stale', () => {
    expect(() => withRegistryBlocks('<!-- registry:nope -->\nold\n<!-- /registry:nope -->')).toThrow(/no generated block named nope/);
  });
});
