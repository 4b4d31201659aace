import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { type HttpStageProps, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';

/**
 * API Gateway access logs for keysmith's HTTP APIs (webhooks, license API): by route key, never
 * the raw path — a Selldone or Gumroad path carries a shared secret, a route key never does — and
 * nothing from the body (where license keys travel).
 */
export function accessLogSettings(logGroup: ILogGroup): NonNullable<HttpStageProps['accessLogSettings']> {
  return {
    destination: new LogGroupLogDestination(logGroup),
    format: AccessLogFormat.custom(
      JSON.stringify({
        requestId: '$context.requestId',
        requestTime: '$context.requestTimeEpoch',
        ip: '$context.identity.sourceIp',
        routeKey: '$context.routeKey',
        status: '$context.status',
        responseLength: '$context.responseLength',
        latencyMs: '$context.responseLatency',
        integrationLatencyMs: '$context.integrationLatency',
        integrationError: '$context.integrationErrorMessage',
        userAgent: '$context.identity.userAgent',
      }),
    ),
  };
}
