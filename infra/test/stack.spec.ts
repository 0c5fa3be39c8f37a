import { spawnSync } from 'node:child_process';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { renderBootstrapScript } from '../lib/bootstrap-script';
import { BuiltApp, buildApp } from '../lib/build-app';
import { DataBucket } from '../lib/data-bucket.construct';
import { SSH_CIDR_PATTERN } from '../lib/deployment-parameters';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

let built: BuiltApp;
let template: Template;
let resources: Record<string, Json>;

// Synthesis takes a few seconds: once for the whole file.
beforeAll(() => {
  built = buildApp({ registerNag: false });
  template = Template.fromStack(built.stack);
  resources = template.toJSON().Resources;
});

const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });
const join = (...parts: Json[]) => ({ 'Fn::Join': ['', parts] });

/** Logical ids of the resources of `type` (optionally filtered), in template order. */
function idsOf(type: string, filter: (r: Json) => boolean = () => true): string[] {
  return Object.keys(resources).filter((id) => resources[id].Type === type && filter(resources[id]));
}
function idOf(type: string, filter?: (r: Json) => boolean): string {
  const ids = idsOf(type, filter);
  expect(ids).toHaveLength(1);
  return ids[0];
}
const props = (id: string) => resources[id].Properties;

// Logical ids, looked up rather than hard-coded (CDK derives them from construct paths and hashes).
const ids = () => {
  const bucket = idOf('AWS::S3::Bucket', (r) => r.Properties.BucketName !== undefined);
  const logBucket = idOf('AWS::S3::Bucket', (r) => r.Properties.BucketName === undefined);
  return {
    bucket,
    logBucket,
    bucketPolicy: idOf('AWS::S3::BucketPolicy', (r) => r.Properties.Bucket.Ref === bucket),
    logBucketPolicy: idOf('AWS::S3::BucketPolicy', (r) => r.Properties.Bucket.Ref === logBucket),
    key: idOf('AWS::KMS::Key'),
    secret: idOf('AWS::SecretsManager::Secret'),
    topic: idOf('AWS::SNS::Topic'),
    topicPolicy: idOf('AWS::SNS::TopicPolicy'),
    subscription: idOf('AWS::SNS::Subscription'),
    queue: idOf('AWS::SQS::Queue'),
    queuePolicy: idOf('AWS::SQS::QueuePolicy'),
    vpc: idOf('AWS::EC2::VPC'),
    subnet: idOf('AWS::EC2::Subnet'),
    routeTable: idOf('AWS::EC2::RouteTable'),
    igw: idOf('AWS::EC2::InternetGateway'),
    sg: idOf('AWS::EC2::SecurityGroup'),
    role: idOf('AWS::IAM::Role'),
    policy: idOf('AWS::IAM::Policy'),
    profile: idOf('AWS::IAM::InstanceProfile'),
    instance: idOf('AWS::EC2::Instance'),
    launchTemplate: idOf('AWS::EC2::LaunchTemplate'),
    eip: idOf('AWS::EC2::EIP'),
    eipAssociation: idOf('AWS::EC2::EIPAssociation'),
  };
};

/** `arn:<partition>:s3:::anomalypipeline-<account>-<region>`, as the stack spells the bucket ARN before the bucket exists. */
const BUCKET_NAME = join('anomalypipeline-', ref('AWS::AccountId'), '-', ref('AWS::Region'));
const BUCKET_ARN_BY_NAME = join('arn:', ref('AWS::Partition'), ':s3:::anomalypipeline-', ref('AWS::AccountId'), '-', ref('AWS::Region'));
const FROM_THIS_BUCKET = {
  StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
  ArnLike: { 'aws:SourceArn': BUCKET_ARN_BY_NAME },
};

describe('AnomalyPipeline stack: resources', () => {
  it('has exactly these resources, and no Lambda or custom resource', () => {
    const counts: Record<string, number> = {};
    for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
    expect(counts).toEqual({
      'AWS::S3::Bucket': 2,
      'AWS::S3::BucketPolicy': 2,
      'AWS::KMS::Key': 1,
      'AWS::SNS::Topic': 1,
      'AWS::SNS::TopicPolicy': 1,
      'AWS::SNS::Subscription': 1,
      'AWS::SQS::Queue': 1,
      'AWS::SQS::QueuePolicy': 1,
      'AWS::EC2::VPC': 1,
      'AWS::EC2::Subnet': 1,
      'AWS::EC2::RouteTable': 1,
      'AWS::EC2::SubnetRouteTableAssociation': 1,
      'AWS::EC2::Route': 1,
      'AWS::EC2::InternetGateway': 1,
      'AWS::EC2::VPCGatewayAttachment': 1,
      'AWS::EC2::VPCEndpoint': 1,
      'AWS::EC2::FlowLog': 1,
      'AWS::EC2::SecurityGroup': 1,
      'AWS::EC2::SecurityGroupIngress': 1,
      'AWS::IAM::Role': 1,
      'AWS::IAM::Policy': 1,
      'AWS::IAM::InstanceProfile': 1,
      'AWS::EC2::LaunchTemplate': 1,
      'AWS::EC2::Instance': 1,
      'AWS::EC2::EIP': 1,
      'AWS::EC2::EIPAssociation': 1,
      'AWS::SecretsManager::Secret': 1,
    });
  });

  it('data bucket: private, encrypted, logged, retained, notifies the topic of raw/*.csv only', () => {
    const { bucket, logBucket, topic, topicPolicy } = ids();
    expect(resources[bucket]).toEqual({
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketName: BUCKET_NAME,
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: ref(logBucket), LogFilePrefix: 'access-logs/' },
        LifecycleConfiguration: {
          Rules: [{ Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
        },
        NotificationConfiguration: {
          TopicConfigurations: [
            {
              Event: 's3:ObjectCreated:*',
              Topic: ref(topic),
              Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'raw/' }, { Name: 'suffix', Value: '.csv' }] } },
            },
          ],
        },
      },
      // S3 checks it may publish when the notification is created: the topic policy must exist first.
      DependsOn: [topicPolicy],
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('log bucket: private, encrypted, expires logs after 90 days, retained', () => {
    const { logBucket } = ids();
    expect(resources[logBucket]).toEqual({
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [{ Id: 'expire-logs', Status: 'Enabled', ExpirationInDays: 90 }] },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('topic: encrypted with its own rotating key, SHA256 signatures', () => {
    const { key, topic } = ids();
    expect(props(topic)).toEqual({
      DisplayName: 'anomaly-pipeline raw batches',
      KmsMasterKeyId: getAtt(key, 'Arn'),
      SignatureVersion: '2',
    });
    expect(props(key)).toMatchObject({ EnableKeyRotation: true, PendingWindowInDays: 7 });
    expect(resources[key].DeletionPolicy).toBe('Delete');
  });

  it('subscription: http://<EIP>:8000/notify, enveloped, retried, dead-lettered, created after the service is up', () => {
    const { subscription, topic, eip, queue, instance, eipAssociation } = ids();
    expect(props(subscription)).toEqual({
      TopicArn: ref(topic),
      Protocol: 'http',
      Endpoint: join('http://', ref(eip), ':8000/notify'),
      RawMessageDelivery: false,
      RedrivePolicy: { deadLetterTargetArn: getAtt(queue, 'Arn') },
      DeliveryPolicy: {
        healthyRetryPolicy: {
          minDelayTarget: 5,
          maxDelayTarget: 120,
          numRetries: 30,
          numNoDelayRetries: 2,
          numMinDelayRetries: 3,
          numMaxDelayRetries: 10,
          backoffFunction: 'EXPONENTIAL',
        },
        throttlePolicy: { maxReceivesPerSecond: 50 },
        requestPolicy: { headerContentType: 'application/json' },
      },
    });
    // The SubscriptionConfirmation must find the service listening on the Elastic IP.
    expect(resources[subscription].DependsOn).toEqual(expect.arrayContaining([instance, eipAssociation]));
  });

  it('dead-letter queue: encrypted, keeps messages 14 days', () => {
    const { queue } = ids();
    expect(props(queue)).toEqual({ MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
  });

  it('network: one public subnet routed to an internet gateway, an S3 gateway endpoint, rejected-flow logs', () => {
    const { vpc, subnet, routeTable, igw, logBucket, logBucketPolicy } = ids();
    expect(props(vpc)).toMatchObject({ CidrBlock: '10.80.0.0/24', EnableDnsHostnames: true, EnableDnsSupport: true });
    expect(props(subnet)).toMatchObject({ VpcId: ref(vpc), CidrBlock: '10.80.0.0/26', MapPublicIpOnLaunch: true });
    template.hasResourceProperties('AWS::EC2::Route', { RouteTableId: ref(routeTable), DestinationCidrBlock: '0.0.0.0/0', GatewayId: ref(igw) });
    template.hasResourceProperties('AWS::EC2::SubnetRouteTableAssociation', { RouteTableId: ref(routeTable), SubnetId: ref(subnet) });
    template.hasResourceProperties('AWS::EC2::VPCGatewayAttachment', { InternetGatewayId: ref(igw), VpcId: ref(vpc) });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      VpcId: ref(vpc),
      RouteTableIds: [ref(routeTable)],
      ServiceName: join('com.amazonaws.', ref('AWS::Region'), '.s3'),
    });
    const flowLog = idOf('AWS::EC2::FlowLog');
    expect(props(flowLog)).toMatchObject({
      ResourceId: ref(vpc),
      ResourceType: 'VPC',
      TrafficType: 'REJECT',
      LogDestinationType: 's3',
      LogDestination: join(getAtt(logBucket, 'Arn'), '/vpc-flow-logs/'),
    });
    expect(resources[flowLog].DependsOn).toEqual([logBucketPolicy]);
  });

  it('security group: 8000 from anywhere, all outbound, SSH only from SshCidr and only when it is set', () => {
    const { sg, vpc } = ids();
    expect(props(sg)).toEqual({
      GroupDescription: expect.any(String),
      VpcId: ref(vpc),
      SecurityGroupIngress: [
        { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 8000, ToPort: 8000, Description: expect.any(String) },
      ],
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1', Description: expect.any(String) }],
    });
    const ssh = idOf('AWS::EC2::SecurityGroupIngress');
    expect(resources[ssh]).toEqual({
      Type: 'AWS::EC2::SecurityGroupIngress',
      Condition: 'HasSshCidr',
      Properties: {
        GroupId: getAtt(sg, 'GroupId'),
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        CidrIp: ref('SshCidr'),
        Description: expect.any(String),
      },
    });
    expect(template.toJSON().Conditions).toEqual({
      HasSshCidr: { 'Fn::Not': [{ 'Fn::Equals': [ref('SshCidr'), ''] }] },
      HasKeyName: { 'Fn::Not': [{ 'Fn::Equals': [ref('KeyName'), ''] }] },
    });
  });

  it('instance: parameterised type, image and key pair; IMDSv2, encrypted disk, detailed monitoring, waits for its signal', () => {
    const { instance, profile, sg, subnet, launchTemplate } = ids();
    expect(props(instance)).toMatchObject({
      ImageId: ref('ImageId'),
      InstanceType: ref('InstanceType'),
      KeyName: { 'Fn::If': ['HasKeyName', ref('KeyName'), ref('AWS::NoValue')] },
      IamInstanceProfile: ref(profile),
      SecurityGroupIds: [getAtt(sg, 'GroupId')],
      SubnetId: ref(subnet),
      Monitoring: true,
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 16, VolumeType: 'gp3' } }],
      LaunchTemplate: { Version: getAtt(launchTemplate, 'LatestVersionNumber') },
    });
    expect(props(launchTemplate).LaunchTemplateData).toEqual({ MetadataOptions: { HttpTokens: 'required' } });
    // Named per stack: a fixed launch template name would collide with a second deployment.
    expect(props(launchTemplate).LaunchTemplateName).toMatch(/^AnomalyPipeline/);
    expect(resources[instance].CreationPolicy).toEqual({ ResourceSignal: { Timeout: 'PT25M' } });
  });

  it('Elastic IP: allocated on its own and associated to the instance (no reference cycle)', () => {
    const { eip, eipAssociation, instance } = ids();
    expect(props(eip)).toEqual({ Domain: 'vpc' });
    expect(props(eipAssociation)).toEqual({ AllocationId: getAtt(eip, 'AllocationId'), InstanceId: ref(instance) });
    expect(JSON.stringify(props(instance))).not.toContain(eip);
  });

  it('outputs: bucket, topic, API base URL, Swagger URL, how to show the API token (and DLQ, instance, log bucket)', () => {
    const { bucket, topic, eip, queue, instance, logBucket, secret } = ids();
    const outputs = template.toJSON().Outputs;
    const values = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, (v as Json).Value]));
    expect(values).toEqual({
      BucketName: ref(bucket),
      TopicArn: ref(topic),
      ApiBaseUrl: join('http://', ref(eip), ':8000'),
      SwaggerUrl: join('http://', ref(eip), ':8000/docs'),
      DeadLetterQueueUrl: ref(queue),
      InstanceId: ref(instance),
      LogBucketName: ref(logBucket),
      ApiTokenCommand: join('aws secretsmanager get-secret-value --region ', ref('AWS::Region'), ' --secret-id ', ref(secret), ' --query SecretString --output text'),
    });
    // The token itself: generated, 40 characters, never in the template.
    expect(props(secret).GenerateSecretString).toEqual({ PasswordLength: 40, ExcludePunctuation: true, IncludeSpace: false });
    expect(props(secret).SecretString).toBeUndefined();
  });

  it('parameters: what a user sets at deploy time, with safe patterns', () => {
    const params = template.toJSON().Parameters;
    expect(Object.keys(params).sort()).toEqual(
      ['BootstrapVersion', 'ImageId', 'InstanceType', 'KeyName', 'RepositoryRef', 'RepositoryUrl', 'SshCidr'].sort(),
    );
    expect(params.InstanceType.Default).toBe('t3.small');
    expect(params.ImageId).toMatchObject({
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    });
    expect(params.RepositoryUrl.Default).toBeUndefined(); // required
    expect(params.RepositoryRef.Default).toBe('main');
    expect(params.SshCidr.Default).toBe('');
    expect(params.KeyName.Default).toBe('');

    const matches = (name: string, value: string) => new RegExp(params[name].AllowedPattern).test(value);
    expect(params.SshCidr.AllowedPattern).toBe(SSH_CIDR_PATTERN);
    for (const ok of ['', '203.0.113.7/32', '10.1.0.0/16']) expect([ok, matches('SshCidr', ok)]).toEqual([ok, true]);
    for (const bad of ['0.0.0.0/0', '10.0.0.0/8', '203.0.113.7', '203.0.113.7/33']) expect([bad, matches('SshCidr', bad)]).toEqual([bad, false]);
    // Values land single-quoted in the bootstrap script: no quote may get through.
    expect(matches('RepositoryUrl', 'https://github.com/acme/anomaly-pipeline.git')).toBe(true);
    for (const bad of ["https://x/'; rm -rf /'", 'http://github.com/a/b', 'git@github.com:a/b.git']) {
      expect([bad, matches('RepositoryUrl', bad)]).toEqual([bad, false]);
    }
    expect(matches('RepositoryRef', 'v1.2.3')).toBe(true);
    expect(matches('RepositoryRef', '0123abc')).toBe(true);
    expect(matches('RepositoryRef', "main'; reboot")).toBe(false);
    expect(matches('RepositoryRef', '--upload-pack=x')).toBe(false);
  });

  it('refuses a stack name that would make an invalid bucket name', () => {
    expect(() => new DataBucket(new Stack(new App(), 'S'), 'D', { namePrefix: 'x'.repeat(36) })).toThrow(/1-35/);
    expect(() => new DataBucket(new Stack(new App(), 'S'), 'D', { namePrefix: 'Upper' })).toThrow(/1-35/);
  });
});

describe('AnomalyPipeline stack: every policy statement', () => {
  const statements = (id: string, field = 'PolicyDocument') => props(id)[field].Statement;
  const tlsOnly = (action: string, resource: Json, principal: Json = { AWS: '*' }) => ({
    Effect: 'Deny',
    Principal: principal,
    Action: action,
    Resource: resource,
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  });

  it('instance role: assumed by EC2 only; SSM core managed policy; read the API token secret; read raw/*, read-write processed/* and state/*, list only those prefixes', () => {
    const { role, policy, bucket, secret } = ids();
    expect(props(role).AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(props(role).ManagedPolicyArns).toEqual([join('arn:', ref('AWS::Partition'), ':iam::aws:policy/AmazonSSMManagedInstanceCore')]);
    expect(props(role).Policies).toBeUndefined();
    expect(props(policy).Roles).toEqual([ref(role)]);
    const arn = getAtt(bucket, 'Arn');
    expect(statements(policy)).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: ref(secret) },
      { Sid: 'ReadRawBatches', Effect: 'Allow', Action: 's3:GetObject', Resource: join(arn, '/raw/*') },
      {
        Sid: 'ReadWriteResultsAndState',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        Resource: [join(arn, '/processed/*'), join(arn, '/state/*')],
      },
      {
        Sid: 'ListOnlyTheServicePrefixes',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: arn,
        Condition: { StringLike: { 's3:prefix': ['raw/*', 'processed/*', 'state/*'] } },
      },
    ]);
  });

  it('data bucket policy: TLS only', () => {
    const { bucketPolicy, bucket } = ids();
    const arn = getAtt(bucket, 'Arn');
    expect(statements(bucketPolicy)).toEqual([tlsOnly('s3:*', [arn, join(arn, '/*')])]);
  });

  it('log bucket policy: TLS only; S3 access logs from the data bucket; flow logs from this account', () => {
    const { logBucketPolicy, logBucket, bucket } = ids();
    const arn = getAtt(logBucket, 'Arn');
    const fromLogs = {
      StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
      ArnLike: { 'aws:SourceArn': join('arn:', ref('AWS::Partition'), ':logs:', ref('AWS::Region'), ':', ref('AWS::AccountId'), ':*') },
    };
    expect(statements(logBucketPolicy)).toEqual([
      tlsOnly('s3:*', [arn, join(arn, '/*')]),
      {
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: join(arn, '/access-logs/*'),
        Condition: {
          ArnLike: { 'aws:SourceArn': getAtt(bucket, 'Arn') },
          StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
        },
      },
      {
        Effect: 'Allow',
        Principal: { Service: 'delivery.logs.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: join(arn, '/vpc-flow-logs/AWSLogs/', ref('AWS::AccountId'), '/*'),
        Condition: {
          StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': ref('AWS::AccountId') },
          ArnLike: fromLogs.ArnLike,
        },
      },
      {
        Effect: 'Allow',
        Principal: { Service: 'delivery.logs.amazonaws.com' },
        Action: ['s3:GetBucketAcl', 's3:ListBucket'],
        Resource: arn,
        Condition: fromLogs,
      },
    ]);
  });

  it('topic policy: only the data bucket of this account may publish, over TLS', () => {
    const { topicPolicy, topic } = ids();
    expect(props(topicPolicy).Topics).toEqual([ref(topic)]);
    expect(statements(topicPolicy)).toEqual([
      {
        Sid: 'AllowOnlyTheDataBucketToPublish',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: ref(topic),
        Condition: FROM_THIS_BUCKET,
      },
      { Sid: 'AllowPublishThroughSSLOnly', ...tlsOnly('sns:Publish', ref(topic), '*') },
    ]);
    // The ARN the policy names is the bucket's own name, spelled the same way.
    const nameParts = props(ids().bucket).BucketName['Fn::Join'][1];
    const arnParts = BUCKET_ARN_BY_NAME['Fn::Join'][1];
    expect(arnParts.slice(0, 3)).toEqual(['arn:', ref('AWS::Partition'), `:s3:::${nameParts[0]}`]);
    expect(arnParts.slice(3)).toEqual(nameParts.slice(1));
  });

  it('topic key policy: the account administers it; only the data bucket may use it to publish', () => {
    const { key } = ids();
    expect(statements(key, 'KeyPolicy')).toEqual([
      {
        Effect: 'Allow',
        Principal: { AWS: join('arn:', ref('AWS::Partition'), ':iam::', ref('AWS::AccountId'), ':root') },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'AllowTheBucketToPublishEncrypted',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        Resource: '*',
        Condition: FROM_THIS_BUCKET,
      },
    ]);
  });

  it('dead-letter queue policy: TLS only; only this topic may send', () => {
    const { queuePolicy, queue, topic } = ids();
    expect(props(queuePolicy).Queues).toEqual([ref(queue)]);
    expect(statements(queuePolicy)).toEqual([
      tlsOnly('sqs:*', getAtt(queue, 'Arn')),
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: getAtt(queue, 'Arn'),
        Condition: { ArnEquals: { 'aws:SourceArn': ref(topic) } },
      },
    ]);
  });

  it('nowhere: an allowed wildcard service action, a delete, or an allow to anyone', () => {
    const all: Json[] = [];
    const walk = (node: Json) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        if (Array.isArray(node.Statement)) all.push(...node.Statement);
        Object.values(node).forEach(walk);
      }
    };
    walk(resources);
    expect(all.length).toBe(16); // the statements checked one by one above
    for (const s of all.filter((st) => st.Effect === 'Allow')) {
      const actions = ([] as string[]).concat(s.Action);
      // kms:* for the account root is the key's administration statement (a key without it is unmanageable).
      const allowed = actions.filter((a) => a !== 'kms:*');
      expect(allowed.filter((a) => /:\*$|Delete/.test(a))).toEqual([]);
      expect(s.Principal).not.toEqual('*');
      expect(s.Principal).not.toEqual({ AWS: '*' });
    }
  });
});

describe('AnomalyPipeline stack: bootstrap (user data)', () => {
  /** The user data as text, with references shown as {{Ref}} / {{Resource.Attr}}. */
  const userDataText = () => {
    const { instance } = ids();
    const parts: Json[] = props(instance).UserData['Fn::Base64']['Fn::Join'][1];
    return parts
      .map((p) => (typeof p === 'string' ? p : p.Ref ? `{{${p.Ref}}}` : `{{${p['Fn::GetAtt'].join('.')}}}`))
      .join('');
  };

  it('installs Node 24 (checksum-verified), fetches RepositoryUrl@RepositoryRef, builds, configures, starts the unit, waits for /health', () => {
    const { bucket, topic } = ids();
    const text = userDataText();
    // cloud-init runs user data as a script only when it starts with #!.
    expect(text.startsWith('#!/bin/bash\n')).toBe(true);
    const steps = [
      "readonly REPO_URL='{{RepositoryUrl}}'",
      "readonly REPO_REF='{{RepositoryRef}}'",
      'trap signal_cloudformation EXIT',
      'dnf install -y -q git tar xz aws-cfn-bootstrap',
      'https://nodejs.org/dist/latest-v24.x',
      'sha256sum --check --strict',
      'useradd --system',
      'git fetch -q --depth 1 origin "$REPO_REF"',
      'npm ci --no-audit --no-fund',
      'npm run build',
      'BUCKET_NAME=$BUCKET_NAME',
      'AWS_REGION=$REGION',
      'SNS_TOPIC_ARNS=$TOPIC_ARN',
      'install -m 0644 "$APP_DIR/infra/systemd/$SERVICE.service"',
      'systemctl enable --now "$SERVICE"',
      'http://127.0.0.1:$PORT/health',
    ];
    let at = 0;
    for (const step of steps) {
      const found = text.indexOf(step, at);
      expect([step, found >= 0]).toEqual([step, true]);
      at = found;
    }
    expect(text).toContain(`readonly BUCKET_NAME='{{${bucket}}}'`);
    expect(text).toContain(`readonly TOPIC_ARN='{{${topic}}}'`);
    expect(text).toContain("readonly REGION='{{AWS::Region}}'");
  });

  it('signals the instance resource it runs on, whose id changes with the script (so a new script means a new instance)', () => {
    const { instance } = ids();
    expect(userDataText()).toContain(`readonly SIGNAL_RESOURCE='${instance}'`);
    expect(instance).toMatch(/^ServiceInstance[0-9A-F]{8}[0-9a-f]{16}$/);
  });

  it('rolls out a new build on `-c instanceGeneration=<new>`: new instance, same Elastic IP and subscription', () => {
    const next = buildApp({ registerNag: false, context: { instanceGeneration: '2' } });
    const nextResources = Template.fromStack(next.stack).toJSON().Resources;
    const nextInstance = Object.keys(nextResources).find((id) => nextResources[id].Type === 'AWS::EC2::Instance')!;
    const { instance, eip, subscription } = ids();
    expect(nextInstance).not.toBe(instance);
    expect(nextResources[eip]).toEqual(resources[eip]);
    expect(nextResources[subscription].Properties).toEqual(resources[subscription].Properties);
    expect(() => buildApp({ registerNag: false, context: { instanceGeneration: "2'" } })).toThrow(/instanceGeneration/);
  });

  it('is valid bash', () => {
    const script = renderBootstrapScript({
      repoUrl: 'https://github.com/acme/anomaly-pipeline.git',
      repoRef: 'main',
      bucketName: 'anomalypipeline-123456789012-eu-west-1',
      region: 'eu-west-1',
      topicArn: 'arn:aws:sns:eu-west-1:123456789012:t',
      stackName: 'AnomalyPipeline',
      signalResource: 'ServiceInstance1',
      generation: '1',
      tokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ApiToken-abc',
    });
    const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(() => renderBootstrapScript({ ...baseValues(), repoRef: "x'y" })).toThrow(/single quote/);
  });
});

const baseValues = () => ({
  repoUrl: 'u',
  repoRef: 'r',
  bucketName: 'b',
  region: 'g',
  topicArn: 't',
  stackName: 's',
  signalResource: 'i',
  generation: '1',
  tokenSecretArn: 'a',
});

describe('AnomalyPipeline stack: cdk-nag AwsSolutions', () => {
  /** Every acknowledgment made anywhere in the app: rule id -> reason. */
  const acknowledgments = (root: IConstruct) => {
    const found: Record<string, string> = {};
    for (const c of root.node.findAll()) {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          // CDK acknowledges some of its own CloudFormation-Validate rules; only ours are checked here.
          if (id.includes('AwsSolutions-')) found[`${c.node.path} ${id}`] = reason;
        }
      }
    }
    return found;
  };

  it('reports no unacknowledged error or warning, and every acknowledgment is used and explained', () => {
    const used = new Set<string>();
    const nag = built.nag as Json;
    const isAcknowledged = nag.isAcknowledged.bind(nag);
    // Record which acknowledgments actually silence a finding, so none is left over after a fix.
    nag.isAcknowledged = (resource: IConstruct, ruleId: string) => {
      const hit = isAcknowledged(resource, ruleId);
      if (hit) {
        for (let c: IConstruct | undefined = resource; c; c = c.node.scope) {
          const entry = c.node.metadata.find(
            (m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && Object.keys(m.data).some((k) => k.endsWith(ruleId)),
          );
          if (entry) {
            used.add(`${c.node.path} ${Object.keys(entry.data).find((k) => k.endsWith(ruleId))}`);
            break;
          }
        }
      }
      return hit;
    };
    const report = built.nag.validateScope(built.app);
    expect(report.violations.map((v) => `${v.ruleName} (${v.severity}) ${v.violatingResources.map((r) => r.constructPath)}`)).toEqual([]);
    expect(report.success).toBe(true);

    const acks = acknowledgments(built.app);
    expect(Object.keys(acks).map((k) => k.slice(k.indexOf('AwsSolutions-'))).sort()).toEqual(
      [
        'AwsSolutions-EC23', // security group: 8000 open to SNS
        'AwsSolutions-EC23', // SSH ingress from a parameter
        'AwsSolutions-EC29', // no termination protection
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        `AwsSolutions-IAM5[Resource::<${ids().bucket}.Arn>/processed/*]`,
        `AwsSolutions-IAM5[Resource::<${ids().bucket}.Arn>/raw/*]`,
        `AwsSolutions-IAM5[Resource::<${ids().bucket}.Arn>/state/*]`,
        'AwsSolutions-SQS3', // the DLQ itself
        'AwsSolutions-SMG4', // the API token is not rotated by a Lambda
      ].sort(),
    );
    for (const [id, reason] of Object.entries(acks)) expect([id, reason.length >= 40]).toEqual([id, true]);
    expect([...used].sort()).toEqual(Object.keys(acks).sort());
  });

  it('fails on a finding that is not acknowledged (the check can fail)', () => {
    const { app, stack, nag } = buildApp({ registerNag: false, stackName: 'NagSelfTest' });
    // An unencrypted, unlogged bucket without TLS enforcement: several AwsSolutions errors.
    new (require('aws-cdk-lib/aws-s3').Bucket)(stack, 'Careless');
    const report = nag.validateScope(app);
    expect(report.success).toBe(false);
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });
});
