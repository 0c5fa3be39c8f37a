import { App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AnomalyPipelineStack } from './anomaly-pipeline.stack';

export const DEFAULT_STACK_NAME = 'AnomalyPipeline';

export interface BuiltApp {
  app: App;
  stack: AnomalyPipelineStack;
  nag: AwsSolutionsChecks;
}

/**
 * The CDK app, shared by bin/app.ts and the tests so both check the same thing. Environment-agnostic
 * (account and region come from the deploying credentials), so synth needs no AWS access.
 * cdk-nag's AwsSolutions pack runs as a validation plugin: a finding fails `cdk synth`.
 */
export function buildApp(props: AppProps & { stackName?: string; registerNag?: boolean } = {}): BuiltApp {
  const { stackName, registerNag = true, ...appProps } = props;
  const app = new App(appProps);
  const name = stackName ?? (app.node.tryGetContext('stackName') as string | undefined) ?? DEFAULT_STACK_NAME;
  const stack = new AnomalyPipelineStack(app, name, {
    description: 'anomaly-pipeline: S3 -> SNS -> EC2 service that scores CSV batches for anomalies',
  });
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  // Tests leave the plugin out and call nag.validateScope(app) themselves, to assert on the report.
  if (registerNag) Validations.of(app).addPlugins(nag);
  return { app, stack, nag };
}
