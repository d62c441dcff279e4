import { AssemblyContents, AssemblyMetadata, AssemblyStack, CatalogError } from '../../src/catalog/assembly';
import { INVENTORY_COLUMNS, buildCatalog, policyLocation } from '../../src/catalog/model';
import { renderCatalogFiles, renderInventory, renderRunbook } from '../../src/catalog/render';
import { CATALOG_METADATA_TYPE, CatalogEntry, CatalogResourceType } from '../../src/core/catalog-metadata';

const TEMPLATE = {
  Resources: {
    Vault: { Type: 'AWS::Backup::BackupVault', Properties: { BackupVaultName: 'pro-vault' } },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    Orders: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { TableName: 'orders' } },
    Billing: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceIdentifier: 'billing' } },
    Ledger: { Type: 'AWS::RDS::DBCluster', Properties: {} },
    Archive: { Type: 'AWS::S3::Bucket', Properties: {} },
  },
};

const base: CatalogEntry = {
  backupName: 'Pro/OrdersBackup',
  content: 'Current data',
  periodicity: 'continuous; daily (35 days)',
  environment: 'Pro',
  supportType: 'AWS Backup + DynamoDB PITR',
  location: { 'Fn::GetAtt': ['Vault', 'BackupVaultArn'] } as unknown as string,
  rpo: '15 minutes',
  rto: '1 hour',
};

function entry(path: string, data: Partial<CatalogEntry> & Record<string, unknown>): AssemblyMetadata {
  return { path, type: CATALOG_METADATA_TYPE, data: { ...base, backupName: path, ...data } };
}

function assembly(metadata: AssemblyMetadata[], over: Partial<AssemblyStack> = {}): AssemblyContents {
  return {
    directory: '/tmp/cdk.out',
    stacks: [{
      artifactId: 'Pro',
      stackName: 'Pro',
      displayName: 'Pro',
      account: '111111111111',
      region: 'eu-west-1',
      template: TEMPLATE,
      metadata,
      ...over,
    }],
  };
}

const tokens = (o: unknown) => o as string;

const FULL = assembly([
  entry('Pro/OrdersBackup', {
    resources: [{ type: CatalogResourceType.DYNAMODB_TABLE, identifier: tokens({ Ref: 'Orders' }), arn: tokens({ 'Fn::GetAtt': ['Orders', 'Arn'] }) }],
    vaultName: tokens({ Ref: 'Vault' }),
    backupRoleArn: tokens({ 'Fn::GetAtt': ['Role', 'Arn'] }),
    retention: { routine: '35 days', samples: ['monthly: 365 days', 'yearly: 2555 days'], pointInTimeWindow: '35 days' },
    drSite: { region: 'eu-central-1', account: '222222222222', vaultName: 'backup-dr-pro-vault' },
    access: [{ team: 'SRE', level: 'RESTORE' }, { team: 'Product', level: 'VIEW' }, { team: 'PO', level: 'ADMIN', principal: 'po-role' }],
  }),
  entry('Pro/BillingBackup', {
    supportType: 'AWS Backup + RDS automated backups',
    resources: [
      { type: CatalogResourceType.RDS_INSTANCE, identifier: tokens({ Ref: 'Billing' }), arn: tokens({ 'Fn::GetAtt': ['Billing', 'DBInstanceArn'] }) },
      { type: CatalogResourceType.AURORA_CLUSTER, identifier: tokens({ Ref: 'Ledger' }), arn: tokens({ 'Fn::GetAtt': ['Ledger', 'DBClusterArn'] }) },
    ],
    vaultName: tokens({ Ref: 'Vault' }),
    access: [{ team: 'Product', level: 'VIEW' }],
  }),
  entry('Pro/Archive', {
    content: 'Code',
    periodicity: 'latest + 3 versions',
    supportType: 'S3 lifecycle',
    location: tokens({ 'Fn::Join': ['', ['https://s3.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: 'Archive' }, '/git/']] }),
    resources: [{ type: CatalogResourceType.S3_BUCKET, identifier: tokens({ Ref: 'Archive' }), keyPrefix: 'git/' }],
    drSite: { region: 'eu-central-1', account: '111111111111', replicaBucketName: 'dr-archive-replica' },
  }),
  entry('Pro/CrmDump', {
    supportType: 'Scheduled dump (Lambda) of postgres 15 to S3',
    location: tokens({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['Archive', 'RegionalDomainName'] }, '/crm/']] }),
    resources: [{ type: CatalogResourceType.EXTERNAL_DATABASE, identifier: 'crm', bucketName: tokens({ Ref: 'Archive' }), keyPrefix: 'crm/', engine: 'postgres 15' }],
  }),
  { path: 'Pro/Other', type: 'aws:cdk:logicalId', data: 'Other' },
]);

describe('inventory', () => {
  const model = buildCatalog(FULL);

  test('Markdown: the policy\'s six columns first, then RPO, RTO, retention, DR site, access; one row per entry', () => {
    const md = renderInventory(model, 'md');
    const lines = md.split('\n');
    expect(lines).toContain('| Backup name | Content | Periodicity | Environment | Type of backup support | Location | RPO | RTO | Retention | DR site | Access |');
    expect(lines).toContain(
      '| Pro/OrdersBackup | Current data | continuous; daily (35 days) | Pro | AWS Backup + DynamoDB PITR | ' +
      'arn:aws:backup:eu-west-1:111111111111:backup-vault:pro-vault | 15 minutes | 1 hour | ' +
      'routine: 35 days; monthly: 365 days; yearly: 2555 days; point in time: 35 days | eu-central-1 (account 222222222222), strategy not reported | ' +
      'SRE: RESTORE, Product: VIEW, PO: ADMIN |');
    expect(lines.filter((l) => l.startsWith('| Pro/'))).toHaveLength(4);
    expect(md).not.toMatch(/\$\{Token|Fn::|"Ref"/);
  });

  test('bucket locations use the policy format, with a readable placeholder for a name assigned at deploy', () => {
    const rows = model.items.map((i) => i.row.location);
    expect(rows[2]).toBe('https://s3.eu-west-1.amazonaws.com/{assigned at deploy: stack Pro, logical id Archive}/git/');
    expect(rows[3]).toBe('https://s3.eu-west-1.amazonaws.com/{assigned at deploy: stack Pro, logical id Archive}/crm/');
    expect(policyLocation('https://my-bucket.s3.us-west-2.amazonaws.com/example-backup-name'))
      .toBe('https://s3.us-west-2.amazonaws.com/my-bucket/example-backup-name');
    expect(policyLocation('arn:aws:backup:eu-west-1:1:backup-vault:v')).toBe('arn:aws:backup:eu-west-1:1:backup-vault:v');
  });

  test('entries without the optional fields still render, with dashes', () => {
    const row = buildCatalog(assembly([entry('Pro/Plain', {})])).items[0].row;
    expect(row).toMatchObject({ retention: '—', drSite: 'none', access: '—' });
  });

  test('the DR strategy comes from the DR site\'s report when the entry does not name it', () => {
    const model2 = buildCatalog(assembly([
      entry('Pro/OrdersBackup', { drSite: { region: 'eu-central-1', account: '111111111111' } }),
      { path: 'Dr/Site', type: 'cdk-backup-dr:dr-site', data: { strategy: 'PILOT_LIGHT', workloads: [{ path: 'Pro/OrdersBackup' }] } },
    ]));
    expect(model2.items[0].row.drSite).toBe('eu-central-1 (account 111111111111), pilot light');
  });

  test('CSV: RFC 4180 quoting and CRLF', () => {
    const csv = renderInventory(buildCatalog(assembly([entry('Pro/A', { periodicity: 'daily, "hot", 7 days' })])), 'csv');
    const [header, row] = csv.split('\r\n');
    expect(header).toBe(INVENTORY_COLUMNS.map((c) => c.title).join(','));
    expect(row).toMatch(/^Pro\/A,Current data,"daily, ""hot"", 7 days",Pro,/);
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  test('Markdown cells escape pipes and newlines', () => {
    const md = renderInventory(buildCatalog(assembly([entry('Pro/A', { periodicity: 'a | b\nc' })])), 'md');
    expect(md).toContain('| a \\| b<br>c |');
  });

  test('JSON: entries with the columns in order, then stack, account and region', () => {
    const json = JSON.parse(renderInventory(model, 'json'));
    expect(json.columns.map((c: { title: string }) => c.title).slice(0, 6))
      .toEqual(['Backup name', 'Content', 'Periodicity', 'Environment', 'Type of backup support', 'Location']);
    expect(Object.keys(json.entries[0])).toEqual([...INVENTORY_COLUMNS.map((c) => c.key), 'stack', 'account', 'region']);
    expect(json.entries[1]).toMatchObject({ backupName: 'Pro/BillingBackup', stack: 'Pro', account: '111111111111', region: 'eu-west-1' });
  });

  test('an assembly without any entry is an error naming its stacks', () => {
    expect(() => buildCatalog(assembly([]))).toThrow(CatalogError);
    expect(() => buildCatalog(assembly([]))).toThrow(/has no backup construct: none of its stacks \(Pro\) records/);
  });

  test('renderCatalogFiles: the four files', () => {
    expect(Object.keys(renderCatalogFiles(model))).toEqual(['backup-catalog.md', 'backup-catalog.csv', 'backup-catalog.json', 'dr-runbook.md']);
  });
});

describe('DR runbook', () => {
  const runbook = renderRunbook(buildCatalog(FULL));
  const section = (title: string) => {
    const start = runbook.indexOf(`\n## ${title}`);
    const end = runbook.indexOf('\n## ', start + 1);
    return runbook.slice(start, end < 0 ? undefined : end);
  };

  test('one section per entry with expected RTO and who may run it (RESTORE and ADMIN teams only)', () => {
    const orders = section('1. Pro/OrdersBackup');
    expect(orders).toContain('| Expected RTO | 1 hour (declared objective; RPO 15 minutes) |');
    expect(orders).toContain('| Who may run it | SRE (RESTORE), PO (ADMIN, po-role) |');
    expect(section('2. Pro/BillingBackup')).toContain('| Who may run it | no team has RESTORE: ask an administrator of account 111111111111 |');
    expect(runbook).toContain('1. [Pro/OrdersBackup](#1-proordersbackup) — Pro, RTO 1 hour');
  });

  test('DynamoDB: point-in-time restore and AWS Backup, with the real table, vault and role', () => {
    const orders = section('1. Pro/OrdersBackup');
    expect(orders).toContain('TABLE="orders"');
    expect(orders).toContain('aws dynamodb restore-table-to-point-in-time --region "$REGION" \\');
    expect(orders).toContain('(point-in-time window: 35 days, to the second)');
    expect(orders).toContain('Console: DynamoDB → Tables → `orders` → Backups → Point-in-time recovery → Restore ' +
      '(https://eu-west-1.console.aws.amazon.com/dynamodbv2/home?region=eu-west-1#table?name=orders&tab=backups)');
    expect(orders).toContain('VAULT="pro-vault"');
    expect(orders).toContain('--by-resource-arn "arn:aws:dynamodb:eu-west-1:111111111111:table/orders"');
    expect(orders).toContain('aws backup start-restore-job --region "$REGION" --recovery-point-arn "$RP" --iam-role-arn ' +
      '"arn:aws:iam::111111111111:role/$(aws cloudformation describe-stack-resource --region eu-west-1 --stack-name Pro --logical-resource-id Role ' +
      '--query StackResourceDetail.PhysicalResourceId --output text)"');
  });

  test('DR region: AWS Backup copies in the DR vault, with a role of the DR account', () => {
    const orders = section('1. Pro/OrdersBackup');
    const dr = orders.slice(orders.indexOf('### Restore in the DR region (eu-central-1)'));
    expect(dr).toContain('Fail over to eu-central-1 (account 222222222222)');
    expect(dr).toContain('REGION=eu-central-1');
    expect(dr).toContain('VAULT="backup-dr-pro-vault"');
    expect(dr).toContain('--iam-role-arn "<ARN of an AWS Backup restore role in account 222222222222>"');
  });

  test('RDS instance and Aurora cluster: point-in-time restore commands', () => {
    const billing = section('2. Pro/BillingBackup');
    expect(billing).toContain('DB="billing"');
    expect(billing).toContain('aws rds restore-db-instance-to-point-in-time --region "$REGION" \\');
    expect(billing).toContain('aws rds restore-db-cluster-to-point-in-time --region "$REGION" \\');
    expect(billing).toContain('CLUSTER="$(aws cloudformation describe-stack-resource --region eu-west-1 --stack-name Pro --logical-resource-id Ledger');
    expect(billing).toContain('aws rds create-db-instance --region "$REGION" --db-cluster-identifier "$TARGET"');
    expect(billing).toContain('is-cluster=false');
    expect(billing).not.toContain('### Restore in the DR region');
  });

  test('S3: version restore in the bucket, and in the replica bucket of the DR site', () => {
    const archive = section('3. Pro/Archive');
    expect(archive).toContain('PREFIX="git/"');
    expect(archive).toContain('aws s3api list-object-versions --region "$REGION" --bucket "$BUCKET" --prefix "$PREFIX"');
    expect(archive).toContain('aws s3api copy-object --region "$REGION" --bucket "$BUCKET" --key "$KEY" --copy-source "$BUCKET/$KEY?versionId=$VERSION"');
    expect(archive).toContain('Console: S3 → Buckets → `{assigned at deploy: stack Pro, logical id Archive}` → Objects → Show versions\n');
    const dr = archive.slice(archive.indexOf('### Restore in the DR region'));
    expect(dr).toContain('BUCKET="dr-archive-replica"');
    expect(dr).toContain('https://s3.console.aws.amazon.com/s3/buckets/dr-archive-replica?region=eu-central-1&prefix=git%2F&showversions=true');
  });

  test('external database: the shipped restore tool, verify first, from the dump prefix', () => {
    const crm = section('4. Pro/CrmDump');
    expect(crm).toContain('#### External database `crm` (postgres 15)');
    expect(crm).toContain('docs/external-db-restore.md');
    expect(crm).toContain('PREFIX="crm/"');
    expect(crm).toContain('$RESTORE --manifest "$MANIFEST" --verify-only');
    expect(crm).toContain('--target-db "${DATABASE}_restored" --create-db');
  });

  test('an entry without resources falls back to its vault, or to the bucket of its location', () => {
    const fallback = renderRunbook(buildCatalog(assembly([
      entry('Pro/Vaulted', {}),
      entry('Pro/Bucketed', {
        location: tokens({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['Archive', 'RegionalDomainName'] }, '/crm/routine/']] }),
      }),
    ])));
    expect(fallback).toContain('VAULT="pro-vault"');
    expect(fallback).toContain('--iam-role-arn "<ARN of the stack\'s AWS Backup service role>"');
    expect(fallback).toContain('BUCKET="$(aws cloudformation describe-stack-resource --region eu-west-1 --stack-name Pro --logical-resource-id Archive');
    expect(fallback).toContain('PREFIX="crm/routine/"');
  });
});
