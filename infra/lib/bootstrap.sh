#!/bin/bash
# First-boot script of the anomaly-pipeline instance (EC2 user data, Amazon Linux 2023).
# The quoted placeholders below are filled in by bootstrap-script.ts at synth time. cloud-init keeps
# this script's output in /var/log/cloud-init-output.log.
#
# The instance's CloudFormation CreationPolicy waits for the cfn-signal sent on exit: the stack
# creates the SNS subscription only after this script reported the service healthy, so SNS's
# SubscriptionConfirmation reaches a service that is listening and confirms it.
set -euo pipefail

export HOME=/root
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin

readonly APP_DIR=/opt/anomaly-pipeline
readonly NODE_DIR=/opt/node
readonly SERVICE=anomaly-pipeline
readonly SERVICE_USER=anomaly-pipeline
readonly REPO_URL='__REPO_URL__'
readonly REPO_REF='__REPO_REF__'
readonly BUCKET_NAME='__BUCKET_NAME__'
readonly REGION='__REGION__'
readonly TOPIC_ARN='__TOPIC_ARN__'
readonly STACK_NAME='__STACK_NAME__'
readonly SIGNAL_RESOURCE='__SIGNAL_RESOURCE__'
# Changing this (cdk deploy -c instanceGeneration=N) changes the script, hence replaces the instance.
readonly GENERATION='__GENERATION__'
# The API token the stack generated: the service gets only its SHA-256 (API_TOKEN_SHA256).
readonly TOKEN_SECRET_ARN='__TOKEN_SECRET_ARN__'
readonly PORT=8000

signal_cloudformation() {
  local rc=$?
  if [ -x /opt/aws/bin/cfn-signal ]; then
    /opt/aws/bin/cfn-signal --exit-code "$rc" --stack "$STACK_NAME" --resource "$SIGNAL_RESOURCE" \
      --region "$REGION" || echo "cfn-signal failed; the stack will time out" >&2
  fi
  exit "$rc"
}
trap signal_cloudformation EXIT

echo "== packages"
dnf install -y -q git tar xz aws-cfn-bootstrap

echo "== Node.js 24 (npm for the build; the service runs the project's pinned node devDependency)"
case "$(uname -m)" in
  x86_64) node_arch=x64 ;;
  aarch64) node_arch=arm64 ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
node_dist=https://nodejs.org/dist/latest-v24.x
work=$(mktemp -d)
curl -fsSL --retry 5 "$node_dist/SHASUMS256.txt" -o "$work/SHASUMS256.txt"
node_tarball=$(awk -v want="-linux-$node_arch.tar.xz" 'substr($2, length($2) - length(want) + 1) == want { print $2 }' "$work/SHASUMS256.txt")
[ -n "$node_tarball" ] || { echo "no linux-$node_arch tarball listed in $node_dist/SHASUMS256.txt" >&2; exit 1; }
curl -fsSL --retry 5 "$node_dist/$node_tarball" -o "$work/$node_tarball"
(cd "$work" && grep " $node_tarball\$" SHASUMS256.txt | sha256sum --check --strict -)
rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
tar -xJf "$work/$node_tarball" -C "$NODE_DIR" --strip-components=1 --no-same-owner
ln -sf "$NODE_DIR/bin/node" "$NODE_DIR/bin/npm" "$NODE_DIR/bin/npx" /usr/local/bin/
rm -rf "$work"
node --version

echo "== service user"
id -u "$SERVICE_USER" >/dev/null 2>&1 ||
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /sbin/nologin "$SERVICE_USER"

echo "== application $REPO_URL @ $REPO_REF (instance generation $GENERATION)"
rm -rf "$APP_DIR" && mkdir -p "$APP_DIR" && cd "$APP_DIR"
git init -q
git remote add origin "$REPO_URL"
# Fetching the ref (branch, tag or commit) rather than cloning a branch accepts all three.
git fetch -q --depth 1 origin "$REPO_REF"
git checkout -q --detach FETCH_HEAD
npm ci --no-audit --no-fund
npm run build
# Root owns the code; the service user can read it but not change it.
chown -R root:root "$APP_DIR"
chmod -R u+rwX,go+rX,go-w "$APP_DIR"

echo "== /etc/environment"
touch /etc/environment
TOKEN_SHA256=$(aws secretsmanager get-secret-value --region "$REGION" --secret-id "$TOKEN_SECRET_ARN" \
  --query SecretString --output text | tr -d '\n' | sha256sum | cut -d' ' -f1)
sed -i -E '/^(BUCKET_NAME|AWS_REGION|SNS_TOPIC_ARNS|HOST|API_TOKEN_SHA256)=/d' /etc/environment
cat >>/etc/environment <<ENVIRONMENT
BUCKET_NAME=$BUCKET_NAME
AWS_REGION=$REGION
SNS_TOPIC_ARNS=$TOPIC_ARN
HOST=0.0.0.0
API_TOKEN_SHA256=$TOKEN_SHA256
ENVIRONMENT
chmod 0644 /etc/environment

echo "== systemd unit"
install -m 0644 "$APP_DIR/infra/systemd/$SERVICE.service" "/etc/systemd/system/$SERVICE.service"
systemctl daemon-reload
systemctl enable --now "$SERVICE"

echo "== waiting for http://127.0.0.1:$PORT/health"
healthy=0
for _ in $(seq 1 60); do
  if curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/health"; then
    healthy=1
    break
  fi
  sleep 5
done
if [ "$healthy" -ne 1 ]; then
  echo "the service did not become healthy; its last log lines:" >&2
  journalctl -u "$SERVICE" --no-pager -n 100 >&2 || true
  curl -sS --max-time 5 "http://127.0.0.1:$PORT/health" >&2 || true
  exit 1
fi
echo "== $SERVICE is healthy"
