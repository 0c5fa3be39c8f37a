import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Object prefixes of the bucket layout (ARCHITECTURE.md); the IAM policy and notification use them. */
export const RAW_PREFIX = 'raw/';
export const PROCESSED_PREFIX = 'processed/';
export const STATE_PREFIX = 'state/';
export const RAW_SUFFIX = '.csv';

export interface DataBucketProps {
  /** Lower-case, e.g. the stack name: the bucket is named `<prefix>-<account>-<region>`. */
  namePrefix: string;
}

/**
 * The data bucket (raw/, processed/, state/) and the bucket its access logs (and the VPC's flow logs)
 * go to. Both are retained when the stack is destroyed: they hold the only copy of the data.
 */
export class DataBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly logBucket: s3.Bucket;
  /** The data bucket's name and ARN as plain strings (no reference to the bucket resource). */
  readonly bucketName: string;
  readonly bucketArn: string;

  constructor(scope: Construct, id: string, props: DataBucketProps) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9-]{0,34}$/.test(props.namePrefix)) {
      // <prefix>-<12-digit account>-<region of up to 14 chars> must fit S3's 63 characters.
      throw new Error(`Bucket name prefix ${JSON.stringify(props.namePrefix)} must be 1-35 of a-z, 0-9, "-"`);
    }
    // A name computable without referring to the bucket: the topic's policy must name the bucket
    // before the bucket exists (S3 checks it may publish when the notification is created).
    this.bucketName = `${props.namePrefix}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    this.bucketArn = Stack.of(this).formatArn({
      service: 's3',
      region: '',
      account: '',
      resource: this.bucketName,
    });

    this.logBucket = new s3.Bucket(this, 'LogBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: this.bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'access-logs/',
      // The service writes large outputs by multipart upload; parts of a failed one cost money.
      lifecycleRules: [{ id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
