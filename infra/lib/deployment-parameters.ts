import { CfnCondition, CfnParameter, Fn, Stack } from 'aws-cdk-lib';

/** Public SSM parameter that always names the newest Amazon Linux 2023 AMI (x86_64). */
export const AL2023_X86_64_IMAGE_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

export const SSH_CIDR_PATTERN = '^$|^([0-9]{1,3}\\.){3}[0-9]{1,3}/(1[6-9]|2[0-9]|3[0-2])$';

/**
 * The stack's CloudFormation parameters: what a user chooses at `cdk deploy --parameters`.
 * Resolved by CloudFormation at deploy time, so synth needs no AWS account and no context lookup.
 */
export class DeploymentParameters {
  readonly instanceType: CfnParameter;
  readonly keyName: CfnParameter;
  readonly sshCidr: CfnParameter;
  readonly repositoryUrl: CfnParameter;
  readonly repositoryRef: CfnParameter;
  readonly imageId: CfnParameter;
  readonly hasKeyName: CfnCondition;
  readonly hasSshCidr: CfnCondition;

  /** Defined directly on the stack, so their logical ids are the plain names users pass. */
  constructor(stack: Stack) {
    this.instanceType = new CfnParameter(stack, 'InstanceType', {
      type: 'String',
      default: 't3.small',
      description: 'EC2 instance type. Must match the image architecture (x86_64 by default; t4g/m7g need the arm64 ImageId).',
      allowedPattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$',
      constraintDescription: 'an EC2 instance type such as t3.small',
    });
    this.keyName = new CfnParameter(stack, 'KeyName', {
      type: 'String',
      default: '',
      description: 'Existing EC2 key pair for SSH. Empty (the default): no key pair; use SSM Session Manager.',
      allowedPattern: '^[\\x21-\\x7e]{0,255}$',
    });
    this.sshCidr = new CfnParameter(stack, 'SshCidr', {
      type: 'String',
      default: '',
      description:
        'IPv4 CIDR (/16 to /32) allowed to reach port 22, e.g. 203.0.113.7/32. Empty (the default): port 22 stays closed.',
      // At most a /16: the parameter cannot open SSH to the whole internet.
      allowedPattern: SSH_CIDR_PATTERN,
      constraintDescription: 'empty or an IPv4 CIDR from /16 to /32 such as 203.0.113.7/32',
    });
    this.repositoryUrl = new CfnParameter(stack, 'RepositoryUrl', {
      type: 'String',
      description: 'HTTPS URL of the anomaly-pipeline git repository the instance fetches and builds.',
      allowedPattern: "^https://[^\\s'\"\\\\]+$",
      constraintDescription: 'an https:// git URL without quotes or spaces',
    });
    this.repositoryRef = new CfnParameter(stack, 'RepositoryRef', {
      type: 'String',
      default: 'main',
      description: 'Branch, tag or commit of RepositoryUrl to deploy.',
      allowedPattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$',
      constraintDescription: 'a branch, tag or commit id',
    });
    this.imageId = new CfnParameter(stack, 'ImageId', {
      type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      default: AL2023_X86_64_IMAGE_PARAMETER,
      description:
        'SSM parameter naming the AMI. Default: newest Amazon Linux 2023 x86_64; for Graviton use ' +
        '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64.',
    });
    this.hasKeyName = new CfnCondition(stack, 'HasKeyName', {
      expression: Fn.conditionNot(Fn.conditionEquals(this.keyName.valueAsString, '')),
    });
    this.hasSshCidr = new CfnCondition(stack, 'HasSshCidr', {
      expression: Fn.conditionNot(Fn.conditionEquals(this.sshCidr.valueAsString, '')),
    });
  }
}
