import { Template } from 'aws-cdk-lib/assertions';
import { PROVIDER_REGISTRY } from '../../functions/providers/registry';
import { isWebhookProvider } from '../../functions/providers/types';
import { KeysmithStack } from '../../lib/keysmith-stack';
import singleFileIds from './fixtures/single-file-stack-ids.json';
import { appWithoutBundling, exampleCatalog, useProjectTmpdir } from './support';

useProjectTmpdir();

/** The storefronts the single-file stack served. */
const SINGLE_FILE_PROVIDERS = ['fastspring', 'paddle', 'elements', 'hotmart', 'selldone'];

/**
 * The stack was split into constructs (lib/constructs/). CloudFormation knows resources by
 * logical ID: a changed ID is a replaced resource — a new license secret (every issued key
 * orphaned), a new API URL, a new queue. The fixture is every logical ID and type of the template
 * the single-file stack synthesized (stack `Keysmith`, example catalog, every provider).
 */
describe('upgrading a stack deployed before the split', () => {
  let resources: Record<string, { Type: string; Properties?: Record<string, any> }>;

  beforeAll(() => {
    // Prepare, Act
    // The providers that stack had: a storefront added since brings its own new resources
    // (route, ingress, secret), which an upgrade adds and never replaces.
    const providers = PROVIDER_REGISTRY.filter((p) => !isWebhookProvider(p) || SINGLE_FILE_PROVIDERS.includes(p.name));
    const stack = new KeysmithStack(appWithoutBundling(), 'Keysmith', { catalog: exampleCatalog(), providers });
    resources = Template.fromStack(stack).toJSON().Resources;
  });

  it('keeps every logical ID of the single-file stack, with the same type', () => {
    // Assess: nothing of the old template is replaced or deleted on `cdk deploy`.
    const kept = Object.fromEntries(Object.keys(singleFileIds).map((id) => [id, resources[id]?.Type]));
    expect(kept).toEqual(singleFileIds);
  });

  it('adds only the new resources: provider secrets, the feedback failure queue and its alarm, the license API', () => {
    const added = Object.entries(resources)
      .filter(([id]) => !(id in singleFileIds))
      .map(([, r]) => r.Type)
      .sort();
    expect(added).toEqual(
      [
        'AWS::CloudWatch::Alarm', // feedback failures
        'AWS::Lambda::EventInvokeConfig', // feedback retries + on-failure destination
        'AWS::SQS::Queue', // feedback failure queue
        'AWS::SQS::QueuePolicy', // its TLS-only policy
        ...Array(5).fill('AWS::SecretsManager::Secret'), // one per provider
        // The license API: its own HTTP API, stage, routes and integration, its function, role,
        // policy, log groups (function and access logs), invoke permissions, and its two alarms.
        'AWS::ApiGatewayV2::Api',
        'AWS::ApiGatewayV2::Stage',
        'AWS::ApiGatewayV2::Integration',
        ...Array(3).fill('AWS::ApiGatewayV2::Route'),
        'AWS::Lambda::Function',
        'AWS::IAM::Role',
        'AWS::IAM::Policy',
        ...Array(3).fill('AWS::Lambda::Permission'),
        ...Array(2).fill('AWS::Logs::LogGroup'),
        ...Array(2).fill('AWS::CloudWatch::Alarm'),
      ].sort(),
    );
  });

  it('leaves the license secret exactly as it was generated: a changed generator regenerates the value', () => {
    expect(resources.SecretA720EF05!.Properties).toEqual({
      Description: 'keysmith (Keysmith): provider webhook secrets and license keys, as one JSON object',
      GenerateSecretString: { ExcludePunctuation: true, GenerateStringKey: 'KEYSMITH_LICENSE_SECRET', PasswordLength: 64, SecretStringTemplate: '{}' },
    });
  });
});
