import type { KeyObject } from 'node:crypto';
import type { Catalog } from '../domain/catalog';
import type { IngressHandler } from '../ingress/handler';
import type { Provider, ProviderContext, WebhookRequest } from '../ingress/types';
import type { SampleBuilder } from './sample';

/**
 * What a provider folder declares about itself (`<name>/registration.ts`), and what every consumer
 * — the CDK stack, the local stack, the CLI, the soak, the fuzzing, the benchmarks and the docs —
 * reads from `registry.ts` instead of knowing the provider. Nothing here is loaded by a Lambda: the
 * handler entry imports only its own folder (test/unit/providers/bundles.test.ts checks it).
 *
 * Heavy parts (the provider's code, its samples, its replay and fuzz hooks) are `() => import()`
 * so that the stack and `keysmith doctor` do not load every verifier to read a route.
 */

export interface RouteSpec {
  method: 'GET' | 'POST';
  /** API Gateway HTTP API route path; `{name}` marks a path parameter. */
  path: string;
}

/** A secret value put to its job by `keysmith doctor` (a key verifies, a table parses). */
export interface KeyCheck {
  name: string;
  status: 'ok' | 'fail';
  detail: string;
}

export type SecretValues = Record<string, string | undefined>;

/**
 * One secret: an environment variable locally, a JSON key of the provider's own Secrets Manager
 * secret in AWS (`KeysmithStore`), a line of `.keysmith/dev-secrets.env` for the local stack.
 */
export interface SecretSpec {
  /** `KEYSMITH_<PROVIDER>_<WHAT>`. */
  name: string;
  /** What kind of value it is; decides how the docs describe it. */
  kind: 'shared-secret' | 'path-secret' | 'public-key' | 'key-table' | 'private-key';
  /** One line for the seller: what it is and where the provider's dashboard shows it. */
  about: string;
  /**
   * Accepts `<NAME>_PREVIOUS` too while a rotation is under way (see functions/aws/secrets.ts).
   * @default false
   */
  rotatable?: boolean;
  /**
   * Why an unset value is fine (doctor then says `skip`, not `warn`), e.g. a sandbox-only key.
   * @default undefined — unset means the provider's webhooks are refused
   */
  optionalBecause?: string;
  /** The problem with a value's form (`secrets set` refuses it, `doctor` fails it). Never echoes the value. */
  problem?(value: string): string | undefined;
  /** Puts a well-formed value to its job through the ingress's own code (doctor only). */
  tryValue?(values: SecretValues, catalog: Catalog): Promise<KeyCheck>;
  /** How the local stack makes a development value. */
  dev: DevSecret;
}

export interface DevSecret {
  /**
   * Values that belong with this one and only exist on a developer's machine, e.g. the private
   * half of a key pair the local `keysmith send` signs with: `KEYSMITH_DEV_<PROVIDER>_…`.
   * @default []
   */
  companions?: readonly string[];
  /**
   * Makes this value (and its companions), given the values generated or stored so far; called
   * when any of them is missing, so a key pair is always replaced as a pair.
   */
  generate(current: SecretValues): Record<string, string>;
  /** `keysmith send <provider>` signs with the companion: say so when the public half is replaced. */
  signsWith?: string;
}

/**
 * How `keysmith replay` rebuilds what `verify` returned from a logged (already verified) delivery.
 * `recordedEventIds` are the event ids the delivery log kept for it.
 */
export type ReplayRebuild = (request: WebhookRequest, ctx: ProviderContext, recordedEventIds: ReadonlySet<string>) => unknown;

export interface ReplaySpec {
  /** Whether the rebuild reads the stack's secrets (only then does the CLI read them). */
  needsSecrets: boolean;
  rebuild(): Promise<ReplayRebuild>;
}

/** What every provider is, including one without webhooks (e.g. operator grants from the CLI). */
export interface ProviderRegistration {
  /** The name in events, keys, routes and secret ids: lower case, digits and `-`. */
  name: string;
  /** The storefront's own name, for docs and messages. */
  title: string;
  /** Empty for a provider that receives no webhooks. */
  routes: readonly RouteSpec[];
  /** Empty for a provider that needs none (no Secrets Manager secret is created for it). */
  secrets: readonly SecretSpec[];
}

/**
 * A setting of a provider's ingress that is not a secret (a signature tolerance): the deployment
 * takes it from CDK context or the environment at synth (`-c NAME=value`) and sets it on that
 * provider's ingress function only; the local stack passes the shell's through.
 */
export interface ProviderSetting {
  /** The environment variable the ingress reads, `KEYSMITH_<PROVIDER>_…`. */
  name: string;
  /** What it sets, for docs and errors. */
  about: string;
  /** Why a value is refused (synth fails with it), or undefined when it is fine. */
  problem(value: string): string | undefined;
}

/** A provider that receives webhooks: one ingress Lambda, its routes, samples, replay and fuzzing. */
export interface WebhookRegistration extends ProviderRegistration {
  /** The Lambda entry file, relative to the project root (bundled by esbuild). */
  entry: string;
  /** Loads the same entry in-process (local stack); a literal import so bundlers see it. */
  load(): Promise<{ handler: IngressHandler }>;
  /** Largest body and accepted media types: the same constants the provider object uses. */
  http: { maxBodyBytes: number; contentTypes?: readonly string[] };
  /** The provider module itself (`keysmith replay` runs its parse and normalize). */
  provider(): Promise<Provider<any, any>>;
  /** Signed sample requests: one `--event` name per event kind the provider maps. */
  sample(): Promise<SampleBuilder>;
  /** How replay rebuilds `verify`'s result. @default the logged body, as verified */
  replay?: ReplaySpec;
  /** The provider's fuzz hooks (`<name>/fuzz.ts`, used by scripts/soak/fuzz). */
  fuzz(): Promise<FuzzHooks>;
  /** The benchmark's floor for this provider (`<name>/bench.ts`, used by scripts/bench/cpu.ts). */
  benchFloor(): Promise<BenchFloor>;
  /** Its ingress's non-secret settings. @default none */
  settings?: readonly ProviderSetting[];
}

/** What the CPU benchmark's floor sees of a request (the body already decoded). */
export interface BenchRequest {
  method: string;
  headers: Record<string, string | undefined>;
  pathParameters: Record<string, string | undefined>;
  rawQuery: string;
  body: Buffer;
}

/**
 * The least any verifier of this provider must do — check the signature and parse the body —
 * written as plainly as possible: the CPU benchmark reports the ingress's cost as a multiple of
 * it. Given the handler's secrets, returns a check that throws on a bad request and returns a
 * number derived from the parsed body (so the work cannot be optimized away).
 */
export type BenchFloor = (secrets: SecretValues) => (request: BenchRequest) => number;

/** A raw request as the fuzzer sends it (scripts/soak/http.ts `RawRequest`). */
export interface FuzzRequest {
  method: string;
  /** Path and query. */
  target: string;
  headers: [string, string][];
  body: Buffer;
}

/** What a changed request must get: the base's own events, any verified outcome, or a refusal. */
export type FuzzVerdict = { kind: 'genuine' } | { kind: 'authentic' } | { kind: 'reject'; why: string };

/** What a forgery may use: the dev secrets (a forger may know some, e.g. another offer's key) and an attacker's own keys. */
export interface FuzzKit {
  secrets: SecretValues;
  attacker: { rsa: KeyObject; ec: KeyObject; ecPublicJwk: Record<string, unknown> };
}

/**
 * What the fuzzer (scripts/soak/fuzz) asks a provider (`<name>/fuzz.ts`): its oracle rule, how to
 * sign a mutated request again, which paths to aim at, and its own forgeries. `secrets` are the
 * local dev secrets (with the `KEYSMITH_DEV_*` private halves).
 */
export interface FuzzHooks {
  /**
   * What structural changes work on: a JSON body, a form (POST body or GET query), or the claims
   * of a JWT inside a JSON envelope (then `resign` takes the claims text as the body).
   */
  body: 'json' | 'form' | 'jwt';
  /**
   * The verdict for `request` (routed to this provider) when it was made from `base` (a genuine
   * request of any provider, or none): e.g. a signature over other bytes must be refused, a
   * token-authenticated request with the right token is authentic whatever its body says.
   */
  classify(request: WebhookRequest, base: { provider: string; request: FuzzRequest } | undefined, secrets: SecretValues): FuzzVerdict;
  /**
   * Signs `request` again after a mutation, as the provider would. Absent for providers that
   * authenticate by token or URL (a mutated body stays authentic there).
   */
  resign?(request: FuzzRequest, secrets: SecretValues): FuzzRequest;
  /** Paths the fuzzer aims at: the real ones (with their secrets) and near misses. */
  targets(secrets: SecretValues): string[];
  /**
   * Request `n` of the provider's forgeries of `base` (cycle through a list with `n`): signatures
   * by the wrong key, over other bytes, tokens that are nearly right. `expect: 'classify'` lets
   * `classify` judge it (e.g. a token variant that may be accepted); default: must be refused.
   */
  forged(base: FuzzRequest, others: readonly FuzzRequest[], n: number, junk: string, kit: FuzzKit): { label: string; request: FuzzRequest; expect?: 'reject' | 'classify' };
}

export function isWebhookProvider(registration: ProviderRegistration): registration is WebhookRegistration {
  return 'entry' in registration && registration.routes.length > 0;
}
