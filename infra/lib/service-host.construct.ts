import { createHash } from 'node:crypto';
import { Aws, Duration, Fn, Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { renderBootstrapScript } from './bootstrap-script';
import { PROCESSED_PREFIX, RAW_PREFIX, STATE_PREFIX } from './data-bucket.construct';
import { DeploymentParameters } from './deployment-parameters';

export const SERVICE_PORT = 8000;

export interface ServiceHostProps {
  params: DeploymentParameters;
  bucket: s3.IBucket;
  logBucket: s3.IBucket;
  topicArn: string;
  /** See BootstrapValues.generation. */
  instanceGeneration: string;
  /** The API token's secret: the instance may read exactly this one. */
  tokenSecret: secretsmanager.ISecret;
}

/**
 * The EC2 instance running the service under systemd: its network, its role, its Elastic IP. The
 * instance reaches CREATE_COMPLETE only once the bootstrap script reports /health answering.
 */
export class ServiceHost extends Construct {
  readonly vpc: ec2.Vpc;
  readonly securityGroup: ec2.SecurityGroup;
  readonly role: iam.Role;
  readonly instance: ec2.Instance;
  readonly elasticIp: ec2.CfnEIP;
  readonly elasticIpAssociation: ec2.CfnEIPAssociation;

  constructor(scope: Construct, id: string, props: ServiceHostProps) {
    super(scope, id);
    const { params, bucket } = props;

    // One public subnet, no NAT gateway: the instance has a public address anyway (SNS must reach it).
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.80.0.0/24'),
      maxAzs: 1,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26 }],
      restrictDefaultSecurityGroup: false,
      flowLogs: {
        toLogBucket: {
          destination: ec2.FlowLogDestination.toS3(props.logBucket, 'vpc-flow-logs/'),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'anomaly-pipeline: HTTP 8000 from anywhere (SNS), SSH only from SshCidr when given',
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(SERVICE_PORT),
      'SNS HTTP deliveries to /notify (SNS has no fixed source range; signatures are verified)',
    );
    Validations.of(this.securityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'Port 8000 must accept SNS HTTP deliveries, which come from no fixed address range; the ' +
        'service verifies every message signature and the topic ARN, so the network is not the guard.',
    });
    const ssh = new ec2.CfnSecurityGroupIngress(this, 'SshIngress', {
      groupId: this.securityGroup.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: 22,
      toPort: 22,
      cidrIp: params.sshCidr.valueAsString,
      description: 'SSH from the SshCidr parameter',
    });
    ssh.cfnOptions.condition = params.hasSshCidr;
    Validations.of(ssh).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'The source is the SshCidr parameter, which cdk-nag cannot evaluate at synth time; its ' +
        'AllowedPattern accepts only /16 to /32 ranges, and when it is empty (the default) this rule does not exist.',
    });

    this.role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'anomaly-pipeline instance: read raw/, read-write processed/ and state/, SSM sessions',
    });
    // The API token's secret, and no other.
    props.tokenSecret.grantRead(this.role);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRawBatches',
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${RAW_PREFIX}*`)],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteResultsAndState',
        // AbortMultipartUpload lets a failed multipart upload clean up its parts; it deletes no object.
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${PROCESSED_PREFIX}*`), bucket.arnForObjects(`${STATE_PREFIX}*`)],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListOnlyTheServicePrefixes',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: {
          StringLike: { 's3:prefix': [RAW_PREFIX, PROCESSED_PREFIX, STATE_PREFIX].map((p) => `${p}*`) },
        },
      }),
    );

    // The script names the instance's final logical id, known only once the instance exists: fill it
    // in lazily, at synthesis. (addCommands would put a blank line before the #! line.)
    let script: string | undefined;
    const userData = ec2.UserData.custom(
      Lazy.string({
        produce: () => {
          if (!script) throw new Error('bootstrap script not rendered');
          return script;
        },
      }),
    );
    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceType: new ec2.InstanceType(params.instanceType.valueAsString),
      machineImage: {
        getImage: () => ({ imageId: params.imageId.valueAsString, osType: ec2.OperatingSystemType.LINUX, userData }),
      },
      userData,
      // Replacement on a script change is done below (the L2 option would rename the instance after
      // the script is written, and the script must name the instance it signals for).
      userDataCausesReplacement: false,
      role: this.role,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      detailedMonitoring: true,
      ssmSessionPermissions: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(16, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
        },
      ],
      // npm ci + build + start on a t3.small takes a few minutes; leave room for a slow mirror.
      resourceSignalTimeout: Duration.minutes(25),
    });
    const cfnInstance = this.instance.instance;
    cfnInstance.keyName = Fn.conditionIf(params.hasKeyName.logicalId, params.keyName.valueAsString, Aws.NO_VALUE).toString();
    const bootstrap = (signalResource: string) =>
      renderBootstrapScript({
        repoUrl: params.repositoryUrl.valueAsString,
        repoRef: params.repositoryRef.valueAsString,
        bucketName: bucket.bucketName,
        region: Aws.REGION,
        topicArn: props.topicArn,
        stackName: Aws.STACK_NAME,
        signalResource,
        generation: props.instanceGeneration,
        tokenSecretArn: props.tokenSecret.secretArn,
      });
    // A new script must mean a new instance (user data runs only at first boot), so the logical id
    // carries a hash of the script; the script then names that final id for its cfn-signal.
    const stack = Stack.of(this);
    const baseId = stack.resolve(cfnInstance.logicalId) as string;
    const scriptHash = createHash('sha256').update(JSON.stringify(stack.resolve(bootstrap(baseId)))).digest('hex');
    const instanceLogicalId = `${baseId}${scriptHash.slice(0, 16)}`;
    cfnInstance.overrideLogicalId(instanceLogicalId);
    script = bootstrap(instanceLogicalId);
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC29',
      reason:
        'Termination protection would make `cdk destroy` fail; the instance holds no state (the ' +
        'baseline and all results live in S3) and is rebuilt from the repository on replacement.',
    });
    // cdk-nag names a finding by the bucket's logical id, e.g. Resource::<DataBucketBD860FE1.Arn>/raw/*.
    const bucketLogicalId = stack.resolve((bucket.node.defaultChild as s3.CfnBucket).logicalId) as string;
    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        reason: "AWS's own minimal policy for SSM Session Manager access, which replaces SSH; kept in step by AWS.",
      },
      ...[RAW_PREFIX, PROCESSED_PREFIX, STATE_PREFIX].map((prefix) => ({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}*]`,
        reason: `The service reads/writes objects of any name under ${prefix}; the wildcard is limited to that prefix.`,
      })),
    );

    // The address exists before the instance: the SNS subscription's URL needs it, and the
    // association (not the instance) refers to both, so nothing refers back in a cycle.
    this.elasticIp = new ec2.CfnEIP(this, 'ElasticIp', { domain: 'vpc' });
    this.elasticIpAssociation = new ec2.CfnEIPAssociation(this, 'ElasticIpAssociation', {
      allocationId: this.elasticIp.attrAllocationId,
      instanceId: this.instance.instanceId,
    });
  }

  /** The public IPv4 address (CloudFormation `Ref` of the EIP). */
  get publicIp(): string {
    return this.elasticIp.ref;
  }
}
