import type { StorefrontName } from '../domain/events';

/**
 * Every provider keysmith speaks to: its routes and its Lambda entry. The CDK stack and the
 * local stack both build from this list. Adding a provider adds its folder and one line here.
 */

export interface RouteSpec {
  method: 'GET' | 'POST';
  /** API Gateway HTTP API route path; `{name}` marks a path parameter. */
  path: string;
}

export interface ProviderRegistration {
  name: StorefrontName;
  routes: readonly RouteSpec[];
  /** The Lambda entry file, relative to the project root (bundled by esbuild). */
  entry: string;
  /** Loads the same entry in-process (local stack); a literal import so bundlers see it. */
  load: () => Promise<{ handler: import('../ingress/handler').IngressHandler }>;
  /** Signed sample requests for `keysmith send` and the tests. */
  sample: () => Promise<import('./sample').SampleBuilder>;
  /** The provider module itself (`keysmith replay` runs its parse and normalize). */
  provider: () => Promise<import('../ingress/types').Provider<any, any>>;
}

export const PROVIDER_REGISTRY: readonly ProviderRegistration[] = [
  {
    name: 'fastspring',
    routes: [{ method: 'POST', path: '/webhooks/fastspring' }],
    entry: 'functions/providers/fastspring/handler.ts',
    load: () => import('./fastspring/handler'),
    sample: async () => (await import('./fastspring/sample')).fastspringSample,
    provider: async () => (await import('./fastspring')).fastspring,
  },
  {
    name: 'paddle',
    routes: [
      { method: 'GET', path: '/webhooks/paddle' },
      { method: 'POST', path: '/webhooks/paddle' },
      { method: 'POST', path: '/webhooks/paddle/alerts' },
    ],
    entry: 'functions/providers/paddle/handler.ts',
    load: () => import('./paddle/handler'),
    sample: async () => (await import('./paddle/sample')).paddleSample,
    provider: async () => (await import('./paddle')).paddle,
  },
  {
    name: 'elements',
    routes: [{ method: 'POST', path: '/webhooks/elements/{offerId}' }],
    entry: 'functions/providers/elements/handler.ts',
    load: () => import('./elements/handler'),
    sample: async () => (await import('./elements/sample')).elementsSample,
    provider: async () => (await import('./elements')).elements,
  },
  {
    name: 'hotmart',
    routes: [{ method: 'POST', path: '/webhooks/hotmart' }],
    entry: 'functions/providers/hotmart/handler.ts',
    load: () => import('./hotmart/handler'),
    sample: async () => (await import('./hotmart/sample')).hotmartSample,
    provider: async () => (await import('./hotmart')).hotmart,
  },
  {
    name: 'selldone',
    routes: [{ method: 'POST', path: '/webhooks/selldone/{secret}' }],
    entry: 'functions/providers/selldone/handler.ts',
    load: () => import('./selldone/handler'),
    sample: async () => (await import('./selldone/sample')).selldoneSample,
    provider: async () => (await import('./selldone')).selldone,
  },
];
