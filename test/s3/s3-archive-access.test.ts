import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { AccessLevel, BackupContent, DeploymentEnvironment, RecoveryTier, TeamAccess } from '../../src';
import { S3ArchiveLifecycle } from '../../src/s3';
import { synthTemplate, testStack } from '../support/app';

/** "action resource" pairs of every Allow / Deny statement attached to a role. */
function permissionsOf(template: Template, stack: Stack, role: iam.IRole, effect = 'Allow'): string[] {
  const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
  return policies
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((st: any) => st.Effect === effect)
    .flatMap((st: any) => [st.Action].flat().flatMap((a: string) => [st.Resource].flat().map((r: unknown) => `${a} ${flatten(r)}`)));
}

function flatten(r: unknown): string {
  if (typeof r === 'string') return r;
  const o = r as any;
  if (o['Fn::GetAtt']) return `<${o['Fn::GetAtt'][0]}.Arn>`;
  if (o['Fn::Join']) return o['Fn::Join'][1].map(flatten).join('');
  if (o.Ref) return `<${o.Ref}>`;
  return JSON.stringify(r);
}

function setup(environment = DeploymentEnvironment.PRO, content = BackupContent.DOCUMENTATION, prefix?: string) {
  const stack = testStack();
  const role = new iam.Role(stack, 'Team', { assumedBy: new iam.AccountRootPrincipal() });
  const archive = new S3ArchiveLifecycle(stack, 'Archive', { content, environment, objectives: RecoveryTier.ARCHIVE, prefix });
  const bucket = `<${stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket)}.Arn>`;
  const key = `<${stack.getLogicalId(archive.encryptionKey!.node.defaultChild as kms.CfnKey)}.Arn>`;
  return { stack, role, archive, bucket, key };
}

describe('team access on the archive', () => {
  const VIEW = ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketVersioning', 's3:GetLifecycleConfiguration'];
  const VIEW_OBJECTS = ['s3:GetObject', 's3:GetObjectTagging'];
  const RESTORE_OBJECTS = ['s3:GetObjectVersion', 's3:GetObjectVersionTagging', 's3:PutObject', 's3:PutObjectTagging', 's3:RestoreObject'];
  const DELETE = ['s3:DeleteObject', 's3:DeleteObjectVersion'];

  test('VIEW reads current objects and decrypts, nothing else', () => {
    const { stack, role, archive, bucket, key } = setup();
    archive.grantAccess(TeamAccess.product(role));
    const perms = permissionsOf(synthTemplate(stack), stack, role);
    expect(perms.sort()).toEqual([
      ...VIEW.map((a) => `${a} ${bucket}`),
      ...VIEW_OBJECTS.map((a) => `${a} ${bucket}/*`),
      `kms:Decrypt ${key}`,
    ].sort());
  });

  test('RESTORE also reads versions, restores archived objects and copies a version back, but never deletes', () => {
    const { stack, role, archive, bucket, key } = setup();
    const grant = archive.grantAccess(TeamAccess.sre(role));
    expect(grant.success).toBe(true);
    const perms = permissionsOf(synthTemplate(stack), stack, role);
    expect(perms.sort()).toEqual([
      ...VIEW.map((a) => `${a} ${bucket}`),
      `s3:ListBucketVersions ${bucket}`,
      ...[...VIEW_OBJECTS, ...RESTORE_OBJECTS].map((a) => `${a} ${bucket}/*`),
      ...['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'].map((a) => `${a} ${key}`),
    ].sort());
    expect(perms.join('\n')).not.toMatch(/Delete/);
  });

  test('only ADMIN may delete', () => {
    const { stack, role, archive, bucket } = setup();
    archive.grantAccess(TeamAccess.sre(role, AccessLevel.ADMIN));
    const perms = permissionsOf(synthTemplate(stack), stack, role);
    for (const a of DELETE) expect(perms).toContain(`${a} ${bucket}/*`);
  });

  test('levels respect TeamAccess.levelFor: Development views Pro but restores Dev', () => {
    const pro = setup(DeploymentEnvironment.PRO);
    pro.archive.grantAccess(TeamAccess.development(pro.role));
    expect(permissionsOf(synthTemplate(pro.stack), pro.stack, pro.role).join('\n')).not.toMatch(/PutObject|GetObjectVersion/);

    const dev = setup(DeploymentEnvironment.DEV);
    dev.archive.grantAccess(TeamAccess.development(dev.role));
    expect(permissionsOf(synthTemplate(dev.stack), dev.stack, dev.role)).toContain(`s3:GetObjectVersion ${dev.bucket}/*`);
  });

  test('the access prop grants every team, scoped to the archive prefix', () => {
    const stack = testStack();
    const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
    const po = new iam.Role(stack, 'Po', { assumedBy: new iam.AccountRootPrincipal() });
    const archive = new S3ArchiveLifecycle(stack, 'Archive', {
      content: BackupContent.HISTORICAL_DATA,
      environment: DeploymentEnvironment.QA,
      objectives: RecoveryTier.ARCHIVE,
      prefix: 'history/',
      access: [TeamAccess.sre(sre), TeamAccess.productOwner(po)],
    });
    const template = synthTemplate(stack);
    const bucket = `<${stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket)}.Arn>`;
    expect(permissionsOf(template, stack, sre)).toContain(`s3:PutObject ${bucket}/history/*`);
    expect(permissionsOf(template, stack, po)).toContain(`s3:GetObject ${bucket}/history/*`);
    expect(permissionsOf(template, stack, po).join('\n')).not.toMatch(/PutObject/);
  });

  test('with AWS Backup, the teams also get their vault grants', () => {
    const stack = testStack();
    const sre = new iam.Role(stack, 'Sre', { assumedBy: new iam.AccountRootPrincipal() });
    new S3ArchiveLifecycle(stack, 'Archive', {
      content: BackupContent.CURRENT_DATA,
      environment: DeploymentEnvironment.PRO,
      objectives: RecoveryTier.STANDARD,
      awsBackup: true,
      access: [TeamAccess.sre(sre)],
    });
    const perms = permissionsOf(synthTemplate(stack), stack, sre);
    expect(perms.some((p) => p.startsWith('backup:StartRestoreJob '))).toBe(true);
    expect(perms.some((p) => p.startsWith('s3:RestoreObject '))).toBe(true);
  });
});

describe('code bundles', () => {
  test('codeBundleKey is <prefix><repo>/<branch>/<repo>.bundle', () => {
    const { archive } = setup(DeploymentEnvironment.PRO, BackupContent.CODE, 'git/');
    expect(archive.codeBundleKey('payments-api', 'pro')).toBe('git/payments-api/pro/payments-api.bundle');
    expect(archive.codeBranches).toEqual(['pro', 'dev', 'qa']);
  });

  test('grantBundleUpload lets CI put the bundles of the configured branches of one repository, and nothing else', () => {
    const { stack, role, archive, bucket, key } = setup(DeploymentEnvironment.PRO, BackupContent.CODE);
    archive.grantBundleUpload(role, 'payments-api');
    const template = synthTemplate(stack);
    const perms = permissionsOf(template, stack, role);
    const keys = ['pro', 'dev', 'qa'].map((b) => `${bucket}/payments-api/${b}/payments-api.bundle`);
    expect(perms.sort()).toEqual([
      ...keys.flatMap((k) => [`s3:PutObject ${k}`, `s3:AbortMultipartUpload ${k}`]),
      `kms:GenerateDataKey ${key}`,
      `kms:Decrypt ${key}`,
    ].sort());
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
        })]),
      },
    });
  });

  test('without a repository, and with custom branches, uploads are limited to those branches', () => {
    const stack = testStack();
    const ci = new iam.Role(stack, 'Ci', { assumedBy: new iam.AccountRootPrincipal() });
    const archive = new S3ArchiveLifecycle(stack, 'Archive', {
      content: BackupContent.CODE, environment: DeploymentEnvironment.QA, objectives: RecoveryTier.ARCHIVE, prefix: 'code/', codeBranches: ['main', 'release/qa'],
    });
    archive.grantBundleUpload(ci);
    const bucket = `<${stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket)}.Arn>`;
    expect(permissionsOf(synthTemplate(stack), stack, ci).filter((p) => p.startsWith('s3:PutObject')).sort())
      .toEqual([`s3:PutObject ${bucket}/code/*/main/*`, `s3:PutObject ${bucket}/code/*/release/qa/*`]);
  });

  test('code helpers refuse other archives and bad names', () => {
    const docs = setup(DeploymentEnvironment.PRO, BackupContent.DOCUMENTATION);
    expect(() => docs.archive.grantBundleUpload(docs.role)).toThrow(
      /^\[TestStack\/Archive\] grantBundleUpload\(\) needs a Code archive, but this one holds Documentation; create an S3ArchiveLifecycle with content: BackupContent\.CODE/,
    );
    const code = setup(DeploymentEnvironment.PRO, BackupContent.CODE);
    expect(() => code.archive.codeBundleKey('my repo', 'pro')).toThrow(/repo is 'my repo', but repository names are 1–100 characters/);
    expect(() => code.archive.codeBundleKey('repo', '/pro')).toThrow(/branch is '\/pro'/);
  });
});

describe('addDocuments', () => {
  test('deploys the documents under documentsPrefix with prune off and retain on delete, and denies deletion to the deployer', () => {
    // GIVEN
    const { stack, archive, bucket } = setup(DeploymentEnvironment.PRO, BackupContent.DOCUMENTATION, 'runbooks/');

    // WHEN
    const deployment = archive.addDocuments('Procedures', [s3deploy.Source.data('deployment.md', '# How we deploy')], 'deployment/');
    const template = synthTemplate(stack);

    // THEN
    expect(archive.documentsPrefix).toBe('runbooks/');
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: stack.getLogicalId(archive.bucket.node.defaultChild as s3.CfnBucket) },
      DestinationBucketKeyPrefix: 'runbooks/deployment/',
      Prune: false,
      RetainOnDelete: true,
    });
    const denied = permissionsOf(template, stack, deployment.handlerRole, 'Deny');
    expect(denied.sort()).toEqual([`s3:DeleteObject ${bucket}/*`, `s3:DeleteObjectVersion ${bucket}/*`]);
  });

  test('without a prefix, documents go to the archive root', () => {
    const { stack, archive } = setup(DeploymentEnvironment.QA, BackupContent.DOCUMENTATION);
    archive.addDocuments('Architecture', [s3deploy.Source.data('architecture.md', '# Architecture')]);
    const [cr] = Object.values(synthTemplate(stack).findResources('Custom::CDKBucketDeployment')) as any[];
    expect(cr.Properties.DestinationBucketKeyPrefix).toBeUndefined();
    expect(archive.documentsPrefix).toBe('');
  });

  test('refuses other archives, empty sources and bad prefixes', () => {
    const code = setup(DeploymentEnvironment.PRO, BackupContent.CODE);
    expect(() => code.archive.addDocuments('Docs', [s3deploy.Source.data('a.md', 'a')])).toThrow(/addDocuments\(\) needs a Documentation archive/);
    const docs = setup(DeploymentEnvironment.PRO, BackupContent.DOCUMENTATION);
    expect(() => docs.archive.addDocuments('Docs', [])).toThrow(/addDocuments\('Docs'\): sources is empty/);
    expect(() => docs.archive.addDocuments('Docs', [s3deploy.Source.data('a.md', 'a')], 'ops')).toThrow(/addDocuments prefix is 'ops'/);
  });
});
