import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Just enough of CloudFormation, Secrets Manager, SNS, SES v1 and SES v2 (REST JSON) to run `--stack` commands with
 * the real SDK clients: the CLI is pointed here with AWS_ENDPOINT_URL_<SERVICE>, while SQS and
 * DynamoDB go to the local stack's emulators. The answers are shaped like AWS's (query-protocol
 * XML, JSON 1.1 for Secrets Manager); `calls` records what the CLI asked.
 */

export interface FakeAwsState {
  stackName: string;
  outputs: Record<string, string>;
  stackStatus: string;
  /** The secret's JSON object (output `SecretArn`). */
  secret: Record<string, string>;
  /** Further secrets by ARN (the provider secrets, outputs `SecretArn<Provider>`). */
  secrets?: Record<string, Record<string, string>>;
  /** SES: verification status per identity. */
  identities: Record<string, string>;
  quota: { max: number; rate: number; sent: number };
  /** SES v2 GetAccount: out of the sandbox? @default false */
  productionAccess?: boolean;
  /** SES v2 GetAccount: sending paused when false. @default true */
  sendingEnabled?: boolean;
  /** SNS: subscription ARNs of the alarm topic ('PendingConfirmation' for pending ones). */
  subscriptions: string[];
  alarms: string[];
}

export interface FakeAws {
  url: string;
  state: FakeAwsState;
  calls: string[];
  stop(): Promise<void>;
}

export async function startFakeAws(state: FakeAwsState): Promise<FakeAws> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    void body(req).then((text) => {
      if (req.url?.startsWith('/v2/email/')) return sesV2(req.method ?? 'GET', req.url, state, calls, res);
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string' && target.startsWith('secretsmanager.')) {
        const action = target.slice('secretsmanager.'.length);
        calls.push(`secretsmanager:${action}`);
        const input = JSON.parse(text || '{}') as { SecretId?: string; SecretString?: string };
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        const other = input.SecretId !== state.outputs.SecretArn ? state.secrets?.[input.SecretId ?? ''] : undefined;
        if (other) {
          if (action === 'GetSecretValue') return res.end(JSON.stringify({ ARN: input.SecretId, Name: 'other', SecretString: JSON.stringify(other), VersionId: 'v1' }));
          if (action === 'PutSecretValue') {
            state.secrets![input.SecretId!] = JSON.parse(input.SecretString ?? '{}') as Record<string, string>;
            return res.end(JSON.stringify({ ARN: input.SecretId, Name: 'other', VersionId: 'v2' }));
          }
        }
        if (input.SecretId !== state.outputs.SecretArn) {
          res.statusCode = 400;
          res.setHeader('x-amzn-errortype', 'ResourceNotFoundException');
          return res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }));
        }
        if (action === 'GetSecretValue') return res.end(JSON.stringify({ ARN: input.SecretId, Name: 'keysmith', SecretString: JSON.stringify(state.secret), VersionId: 'v1' }));
        if (action === 'PutSecretValue') {
          state.secret = JSON.parse(input.SecretString ?? '{}') as Record<string, string>;
          return res.end(JSON.stringify({ ARN: input.SecretId, Name: 'keysmith', VersionId: 'v2' }));
        }
      }
      const params = new URLSearchParams(text);
      const action = params.get('Action') ?? '';
      calls.push(action);
      res.setHeader('content-type', 'text/xml');
      const answer = queryAnswer(action, params, state);
      if (!answer) {
        res.statusCode = 400;
        return res.end(error('InvalidAction', `fake AWS does not know ${action}`));
      }
      if (answer.error) {
        res.statusCode = 400;
        return res.end(error(answer.error.code, answer.error.message));
      }
      return res.end(`<${action}Response><${action}Result>${answer.xml}</${action}Result><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></${action}Response>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    state,
    calls,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function queryAnswer(action: string, params: URLSearchParams, state: FakeAwsState): { xml: string; error?: { code: string; message: string } } | undefined {
  const member = (fields: Record<string, string>): string =>
    `<member>${Object.entries(fields)
      .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
      .join('')}</member>`;
  switch (action) {
    case 'DescribeStacks':
      if (params.get('StackName') !== state.stackName) return { xml: '', error: { code: 'ValidationError', message: `Stack with id ${params.get('StackName')} does not exist` } };
      return {
        xml: `<Stacks><member><StackName>${state.stackName}</StackName><StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/${state.stackName}/1</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>${state.stackStatus}</StackStatus><Outputs>${Object.entries(
          state.outputs,
        )
          .map(([k, v]) => member({ OutputKey: k, OutputValue: v }))
          .join('')}</Outputs></member></Stacks>`,
      };
    case 'DescribeStackResources':
      return {
        xml: `<StackResources>${state.alarms
          .map((id) =>
            member({
              StackName: state.stackName,
              LogicalResourceId: id,
              PhysicalResourceId: `${state.stackName}-${id}`,
              ResourceType: 'AWS::CloudWatch::Alarm',
              Timestamp: '2026-01-01T00:00:00Z',
              ResourceStatus: 'CREATE_COMPLETE',
            }),
          )
          .join('')}</StackResources>`,
      };
    case 'ListSubscriptionsByTopic':
      return {
        xml: `<Subscriptions>${state.subscriptions.map((arn) => member({ TopicArn: params.get('TopicArn') ?? '', Protocol: 'email', SubscriptionArn: arn, Owner: '000000000000', Endpoint: 'ops@example.com' })).join('')}</Subscriptions>`,
      };
    case 'GetIdentityVerificationAttributes':
      return {
        xml: `<VerificationAttributes>${Object.entries(state.identities)
          .map(([id, status]) => `<entry><key>${xmlEscape(id)}</key><value><VerificationStatus>${status}</VerificationStatus></value></entry>`)
          .join('')}</VerificationAttributes>`,
      };
    case 'GetSendQuota':
      return { xml: `<Max24HourSend>${state.quota.max}.0</Max24HourSend><MaxSendRate>${state.quota.rate}.0</MaxSendRate><SentLast24Hours>${state.quota.sent}.0</SentLast24Hours>` };
    default:
      return undefined;
  }
}

/** SES v2: GetAccount and GetEmailIdentity, from the same state as v1's identities and quota. */
function sesV2(method: string, url: string, state: FakeAwsState, calls: string[], res: import('node:http').ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  const identity = /^\/v2\/email\/identities\/([^/?]+)/.exec(url);
  if (method === 'GET' && url.startsWith('/v2/email/account')) {
    calls.push('sesv2:GetAccount');
    res.end(
      JSON.stringify({
        ProductionAccessEnabled: state.productionAccess ?? false,
        SendingEnabled: state.sendingEnabled ?? true,
        EnforcementStatus: 'HEALTHY',
        SendQuota: { Max24HourSend: state.quota.max, MaxSendRate: state.quota.rate, SentLast24Hours: state.quota.sent },
      }),
    );
    return;
  }
  if (method === 'GET' && identity) {
    calls.push('sesv2:GetEmailIdentity');
    const id = decodeURIComponent(identity[1]!);
    const status = state.identities[id];
    if (status === undefined) {
      res.statusCode = 404;
      res.setHeader('x-amzn-errortype', 'NotFoundException');
      res.end(JSON.stringify({ message: `Email identity <${id}> does not exist.` }));
      return;
    }
    res.end(
      JSON.stringify({
        IdentityType: id.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN',
        VerifiedForSendingStatus: status === 'Success',
        VerificationStatus: status === 'Success' ? 'SUCCESS' : status.toUpperCase(),
      }),
    );
    return;
  }
  res.statusCode = 400;
  res.setHeader('x-amzn-errortype', 'BadRequestException');
  res.end(JSON.stringify({ message: `fake AWS does not know ${method} ${url}` }));
}

function error(code: string, message: string): string {
  return `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
