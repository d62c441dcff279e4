#!/usr/bin/env bash
# Packs the library (npm pack) and synthesizes a throwaway consumer app that installs the tarball.
# Usage: npx projen compile && npx projen bundle && scripts/pack-smoke.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund "$tarball" "aws-cdk-lib@$(node -p "require('$root/node_modules/aws-cdk-lib/package.json').version")" \
  "constructs@$(node -p "require('$root/node_modules/constructs/package.json').version")" >/dev/null
cat > app.js <<'JS'
const { App, Stack } = require('aws-cdk-lib');
const dynamodb = require('aws-cdk-lib/aws-dynamodb');
const iam = require('aws-cdk-lib/aws-iam');
const bdr = require('cdk-backup-dr');
const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
const stack = new Stack(app, 'Consumer', { env: { account: '111111111111', region: 'eu-west-1' } });
const table = new dynamodb.TableV2(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
new bdr.DynamoPitrBackup(stack, 'B', {
  tables: [table], objectives: bdr.RecoveryTier.CRITICAL, environment: bdr.DeploymentEnvironment.PRO, access: [bdr.TeamAccess.sre(sre)],
});
new bdr.S3ArchiveLifecycle(stack, 'Code', { content: bdr.BackupContent.CODE, environment: bdr.DeploymentEnvironment.PRO });
const template = app.synth().getStackByName('Consumer').template;
const types = {};
for (const r of Object.values(template.Resources)) types[r.Type] = (types[r.Type] || 0) + 1;
if (!types['AWS::Backup::BackupPlan'] || !types['AWS::S3::Bucket']) throw new Error('consumer synth is missing resources');
console.log('consumer app synthesized:', JSON.stringify(types));
JS
JSII_DEPRECATED=quiet node app.js
