import { CfnOutput, Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DataBucket, RAW_PREFIX, RAW_SUFFIX } from './data-bucket.construct';
import { DeploymentParameters } from './deployment-parameters';
import { NotificationTopic } from './notification-topic.construct';
import { SERVICE_PORT, ServiceHost } from './service-host.construct';

/** Feature flags this stack relies on, set on the stack itself so every app that builds it agrees. */
export const STACK_FEATURE_FLAGS = {
  // Grant S3 log delivery through the bucket policy rather than the legacy ACL (ACLs are disabled).
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  // Write the flow-log delivery grant into the log bucket's policy; otherwise AWS adds it behind
  // CloudFormation's back and the next stack update removes it again.
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  // Name the IMDSv2 launch template after the stack; the legacy fixed name collides across stacks.
  '@aws-cdk/aws-ec2:uniqueImdsv2TemplateName': true,
} as const;

/**
 * Everything the service needs in AWS: bucket -> (ObjectCreated raw/*.csv) -> SNS topic -> HTTP
 * subscription to the instance's /notify, with a dead-letter queue for what cannot be delivered.
 *
 * Creation order, which the dependencies below encode: key and topic policy, then the bucket (S3
 * checks that it may publish when the notification is set), the instance (done once the service
 * answers /health), the Elastic IP association, and last the subscription, so that SNS's
 * SubscriptionConfirmation reaches a listening service that confirms it itself.
 */
/** Context key: `cdk deploy -c instanceGeneration=2` replaces the instance with a fresh build. */
export const INSTANCE_GENERATION_CONTEXT = 'instanceGeneration';

export class AnomalyPipelineStack extends Stack {
  readonly params: DeploymentParameters;
  readonly data: DataBucket;
  readonly notifications: NotificationTopic;
  readonly host: ServiceHost;
  readonly subscription: sns.Subscription;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    for (const [flag, value] of Object.entries(STACK_FEATURE_FLAGS)) this.node.setContext(flag, value);

    this.params = new DeploymentParameters(this);
    this.data = new DataBucket(this, 'DataBucket', { namePrefix: this.stackName.toLowerCase() });
    this.notifications = new NotificationTopic(this, 'Notifications', { sourceBucketArn: this.data.bucketArn });
    const { topic, topicPolicy, deadLetterQueue } = this.notifications;

    const cfnBucket = this.data.bucket.node.defaultChild as s3.CfnBucket;
    // Set on the bucket resource itself: CDK's addEventNotification would add a Lambda-backed
    // custom resource only to break a cycle that the precomputed bucket name already avoids.
    cfnBucket.notificationConfiguration = {
      topicConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          topic: topic.topicArn,
          filter: {
            s3Key: {
              rules: [
                { name: 'prefix', value: RAW_PREFIX },
                { name: 'suffix', value: RAW_SUFFIX },
              ],
            },
          },
        },
      ],
    };
    cfnBucket.addResourceDependency(topicPolicy.node.defaultChild as sns.CfnTopicPolicy);

    // The API token every route but /notify and /health asks for; the instance reads it at boot.
    const tokenSecret = new secretsmanager.Secret(this, 'ApiToken', {
      description: 'anomaly-pipeline API token (Authorization: Bearer, or the dashboard login)',
      generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(tokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The token is read once at instance boot into a hashed setting; rotating it means a new instance (instanceGeneration), not a rotation Lambda.',
    });
    this.host = new ServiceHost(this, 'Service', {
      tokenSecret,
      params: this.params,
      bucket: this.data.bucket,
      logBucket: this.data.logBucket,
      topicArn: topic.topicArn,
      instanceGeneration: this.instanceGeneration(),
    });

    const baseUrl = `http://${this.host.publicIp}:${SERVICE_PORT}`;
    this.subscription = topic.addSubscription(
      new subscriptions.UrlSubscription(`${baseUrl}/notify`, {
        protocol: sns.SubscriptionProtocol.HTTP,
        rawMessageDelivery: false,
        deadLetterQueue,
        deliveryPolicy: {
          // Rides out a restart or a redeploy of the instance (~25 min of retries), then the DLQ.
          healthyRetryPolicy: {
            numRetries: 30,
            numNoDelayRetries: 2,
            numMinDelayRetries: 3,
            numMaxDelayRetries: 10,
            minDelayTarget: Duration.seconds(5),
            maxDelayTarget: Duration.seconds(120),
            backoffFunction: sns.BackoffFunction.EXPONENTIAL,
          },
          throttlePolicy: { maxReceivesPerSecond: 50 },
          requestPolicy: { headerContentType: 'application/json' },
        },
      }),
    );
    this.subscription.node.addDependency(this.host.instance, this.host.elasticIpAssociation);

    new CfnOutput(this, 'BucketName', { value: this.data.bucket.bucketName, description: 'Data bucket (raw/, processed/, state/)' });
    new CfnOutput(this, 'TopicArn', { value: topic.topicArn, description: 'SNS topic the bucket publishes to' });
    new CfnOutput(this, 'ApiBaseUrl', { value: baseUrl, description: 'The service (health: /health)' });
    new CfnOutput(this, 'SwaggerUrl', { value: `${baseUrl}/docs`, description: 'Swagger UI' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetterQueue.queueUrl, description: 'Notifications SNS could not deliver' });
    new CfnOutput(this, 'ApiTokenCommand', {
      value: `aws secretsmanager get-secret-value --region ${this.region} --secret-id ${tokenSecret.secretArn} --query SecretString --output text`,
      description: 'Shows the API token: send it as Authorization: Bearer <token>, or log in to the dashboard with it',
    });
    new CfnOutput(this, 'InstanceId', { value: this.host.instance.instanceId, description: 'For aws ssm start-session --target' });
    new CfnOutput(this, 'LogBucketName', { value: this.data.logBucket.bucketName, description: 'S3 access logs and VPC flow logs' });
  }

  /**
   * User data runs only at an instance's first boot, so a new RepositoryRef alone rebuilds nothing;
   * a new generation changes the bootstrap script, and with it the instance's logical id.
   */
  private instanceGeneration(): string {
    const value = String(this.node.tryGetContext(INSTANCE_GENERATION_CONTEXT) ?? '1');
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
      throw new Error(`Context ${INSTANCE_GENERATION_CONTEXT} must be 1-64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(value)}`);
    }
    return value;
  }
}
