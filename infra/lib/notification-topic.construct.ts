import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface NotificationTopicProps {
  /** ARN of the only bucket allowed to publish (a plain string: the bucket is created after this). */
  sourceBucketArn: string;
}

/**
 * The SNS topic S3 publishes ObjectCreated events to, encrypted with its own KMS key (S3 cannot use
 * the AWS-managed SNS key), its policy, and the dead-letter queue for notifications SNS gave up on.
 */
export class NotificationTopic extends Construct {
  readonly key: kms.Key;
  readonly topic: sns.Topic;
  readonly topicPolicy: sns.TopicPolicy;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: NotificationTopicProps) {
    super(scope, id);
    const fromThisBucket = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': props.sourceBucketArn },
    };

    this.key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the anomaly-pipeline SNS topic at rest',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // S3 publishes to an encrypted topic only if the key lets it make a data key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowTheBucketToPublishEncrypted',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: fromThisBucket,
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'anomaly-pipeline raw batches',
      masterKey: this.key,
      // SHA256 signatures; the service verifies both versions.
      signatureVersion: '2',
    });
    // One explicit policy (not addToResourcePolicy) so the bucket can depend on it.
    this.topicPolicy = new sns.TopicPolicy(this, 'TopicPolicy', {
      topics: [this.topic],
      enforceSSL: true,
      policyDocument: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AllowOnlyTheDataBucketToPublish',
            principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
            actions: ['sns:Publish'],
            resources: [this.topic.topicArn],
            conditions: fromThisBucket,
          }),
        ],
      }),
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is the SNS subscription's dead-letter queue; a DLQ of a DLQ would only move the same messages again.",
    });
  }
}
