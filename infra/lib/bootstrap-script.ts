import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** What the first-boot script needs to know; CloudFormation tokens in the stack, literals in tests. */
export interface BootstrapValues {
  repoUrl: string;
  repoRef: string;
  bucketName: string;
  region: string;
  topicArn: string;
  stackName: string;
  /** Logical id of the instance whose CreationPolicy waits for the script's cfn-signal. */
  signalResource: string;
  /** Bumped by the user to roll out a new build: a new script means a new instance. */
  generation: string;
  /** The Secrets Manager secret holding the API token (its SHA-256 goes into the service's environment). */
  tokenSecretArn: string;
}

const PLACEHOLDERS: Record<keyof BootstrapValues, string> = {
  repoUrl: '__REPO_URL__',
  repoRef: '__REPO_REF__',
  bucketName: '__BUCKET_NAME__',
  region: '__REGION__',
  topicArn: '__TOPIC_ARN__',
  stackName: '__STACK_NAME__',
  signalResource: '__SIGNAL_RESOURCE__',
  generation: '__GENERATION__',
  tokenSecretArn: '__TOKEN_SECRET_ARN__',
};

const KNOWN = new Set(Object.values(PLACEHOLDERS));

export const BOOTSTRAP_TEMPLATE_PATH = path.join(__dirname, 'bootstrap.sh');

/**
 * The instance's user data: bootstrap.sh with its placeholders filled in. The script lives in its
 * own file so it can be read, linted and syntax-checked as shell. Values land inside single quotes,
 * so none may contain one (the stack's parameter patterns already exclude them).
 */
export function renderBootstrapScript(values: BootstrapValues): string {
  let script = readFileSync(BOOTSTRAP_TEMPLATE_PATH, 'utf8');
  const unknown = [...script.matchAll(/__[A-Z_]+__/g)].map((m) => m[0]).filter((p) => !KNOWN.has(p));
  if (unknown.length > 0) throw new Error(`bootstrap.sh has unknown placeholders: ${unknown.join(', ')}`);
  for (const [name, placeholder] of Object.entries(PLACEHOLDERS) as [keyof BootstrapValues, string][]) {
    const value = values[name];
    if (value.includes("'")) throw new Error(`Bootstrap value ${name} must not contain a single quote`);
    if (!script.includes(placeholder)) throw new Error(`bootstrap.sh lost its ${placeholder} placeholder`);
    script = script.split(placeholder).join(value);
  }
  return script;
}
