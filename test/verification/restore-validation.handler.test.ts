import { BackupClient, DescribeRestoreJobCommand, PutRestoreValidationResultCommand } from '@aws-sdk/client-backup';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler, MAX_SCAN_PAGES, RestoreJobEvent, validateRestore, ValidationDeps } from '../../src/verification/handler/restore-validation';

const backup = mockClient(BackupClient);
const dynamodb = mockClient(DynamoDBClient);
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const cloudwatch = mockClient(CloudWatchClient);

const PLAN = 'arn:aws:backup:eu-west-1:111111111111:restore-testing-plan:TestStack_Pro-abc';
const SOURCE = 'arn:aws:dynamodb:eu-west-1:111111111111:table/Orders';
const RESTORED = 'arn:aws:dynamodb:eu-west-1:111111111111:table/awsbackup-restore-test-1234';
const T0 = new Date('2026-03-07T02:10:00Z');

function event(jobId = 'job-1'): RestoreJobEvent {
  return { 'source': 'aws.backup', 'detail-type': 'Restore Job State Change', 'detail': { restoreJobId: jobId, status: 'COMPLETED', restoreTestingPlanArn: PLAN } };
}

function job(created: string, source = SOURCE, seconds = 1800, plan = PLAN) {
  return {
    RestoreJobId: 'job-1',
    Status: 'COMPLETED' as const,
    CreatedResourceArn: created,
    SourceResourceArn: source,
    CreationDate: T0,
    CompletionDate: new Date(T0.getTime() + seconds * 1000),
    CreatedBy: { RestoreTestingPlanArn: plan },
  };
}

function deps(env: Record<string, string> = {}, extra: Partial<ValidationDeps> = {}): ValidationDeps {
  return {
    backup: new BackupClient({ region: 'eu-west-1' }),
    dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
    rds: new RDSClient({ region: 'eu-west-1' }),
    s3: new S3Client({ region: 'eu-west-1' }),
    tagging: new ResourceGroupsTaggingAPIClient({ region: 'eu-west-1' }),
    cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
    env: { RESTORE_TESTING_PLAN_ARNS: PLAN, ...env },
    retry: { sleep: async () => {} },
    ...extra,
  };
}

function metrics() {
  return cloudwatch.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? [])
    .map((d) => [d.MetricName, d.Value, Object.fromEntries((d.Dimensions ?? []).map((x) => [x.Name, x.Value]))]);
}

beforeEach(() => {
  for (const m of [backup, dynamodb, rds, s3, tagging, cloudwatch]) m.reset();
  backup.on(PutRestoreValidationResultCommand).resolves({});
  cloudwatch.on(PutMetricDataCommand).resolves({});
  tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: SOURCE, Tags: [{ Key: 'cdk-backup-dr:policy', Value: 'Pro-rpo15m-rto60m' }] }] });
  jest.spyOn(console, 'log').mockImplementation(() => {});
  jest.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => jest.restoreAllMocks());

test('DynamoDB: ACTIVE table, every Scan page counted, result reported, duration published for the source policy', async () => {
  backup.on(DescribeRestoreJobCommand).resolves(job(RESTORED));
  dynamodb.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
  dynamodb.on(ScanCommand).resolvesOnce({ Count: 3, LastEvaluatedKey: { pk: { S: 'a' } } }).resolvesOnce({ Count: 2 });

  const out = await validateRestore(event(), deps());

  expect(dynamodb).toHaveReceivedCommandWith(DescribeTableCommand, { TableName: 'awsbackup-restore-test-1234' });
  expect(dynamodb).toHaveReceivedCommandWith(ScanCommand, { TableName: 'awsbackup-restore-test-1234', Select: 'COUNT', ExclusiveStartKey: { pk: { S: 'a' } } });
  expect(backup).toHaveReceivedCommandWith(PutRestoreValidationResultCommand, {
    RestoreJobId: 'job-1', ValidationStatus: 'SUCCESSFUL', ValidationStatusMessage: 'table awsbackup-restore-test-1234 is ACTIVE with 5 items (restore took 1800 s)',
  });
  expect(tagging).toHaveReceivedCommandWith(GetResourcesCommand, { ResourceARNList: [SOURCE] });
  expect(metrics()).toEqual([
    ['RestoreValidationSuccess', 1, { Policy: 'Pro-rpo15m-rto60m' }],
    ['RestoreDurationSeconds', 1800, { Policy: 'Pro-rpo15m-rto60m' }],
  ]);
  expect(out.status).toBe('SUCCESSFUL');
});

test('DynamoDB: counting stops after MAX_SCAN_PAGES and says "at least"', async () => {
  backup.on(DescribeRestoreJobCommand).resolves(job(RESTORED));
  dynamodb.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
  dynamodb.on(ScanCommand).resolves({ Count: 10, LastEvaluatedKey: { pk: { S: 'x' } } });
  const out = await validateRestore(event(), deps());
  expect(dynamodb).toHaveReceivedCommandTimes(ScanCommand, MAX_SCAN_PAGES);
  expect(out.message).toMatch(new RegExp(`at least ${MAX_SCAN_PAGES * 10} items`));
});

test('a table that is not ACTIVE fails the validation: FAILED is reported and the handler throws', async () => {
  backup.on(DescribeRestoreJobCommand).resolves(job(RESTORED));
  dynamodb.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'CREATING' } });
  process.env.RESTORE_TESTING_PLAN_ARNS = PLAN;
  try {
    await expect(handler(event())).rejects.toThrow(/Restore test job-1 failed validation: restored table awsbackup-restore-test-1234 is CREATING, not ACTIVE/);
  } finally {
    delete process.env.RESTORE_TESTING_PLAN_ARNS;
  }
  expect(backup).toHaveReceivedCommandWith(PutRestoreValidationResultCommand, { ValidationStatus: 'FAILED' });
  expect(metrics()).toContainEqual(['RestoreValidationSuccess', 0, { Policy: 'Pro-rpo15m-rto60m' }]);
});

test('RDS instance: available; the connection is not checked outside the VPC, and is when CONNECT_CHECK=tcp', async () => {
  const created = 'arn:aws:rds:eu-west-1:111111111111:db:awsbackup-restore-test-9';
  backup.on(DescribeRestoreJobCommand).resolves(job(created, 'arn:aws:rds:eu-west-1:111111111111:db:reporting', 2400));
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'available', Endpoint: { Address: 'h.example', Port: 5432 } }] });
  const first = await validateRestore(event(), deps());
  expect(first.message).toMatch(/DB instance awsbackup-restore-test-9 is available; connection not checked/);

  const connect = jest.fn().mockResolvedValue(undefined);
  const second = await validateRestore(event(), deps({ CONNECT_CHECK: 'tcp' }, { connect }));
  expect(connect).toHaveBeenCalledWith('h.example', 5432, 5000);
  expect(second.message).toMatch(/TCP connection to h.example:5432 opened/);

  const refused = await validateRestore(event(), deps({ CONNECT_CHECK: 'tcp' }, { connect: jest.fn().mockRejectedValue(new Error('ECONNREFUSED')) }));
  expect(refused.status).toBe('FAILED');
  expect(refused.message).toMatch(/cannot open a TCP connection to h.example:5432: ECONNREFUSED/);
});

test('Aurora cluster that is not available fails; S3 bucket listing succeeds', async () => {
  backup.on(DescribeRestoreJobCommand).resolvesOnce(job('arn:aws:rds:eu-west-1:111111111111:cluster:awsbackup-restore-test-c'))
    .resolvesOnce(job('arn:aws:s3:::awsbackup-restore-test-b', 'arn:aws:s3:::archive'));
  rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ Status: 'creating' }] });
  s3.on(ListObjectsV2Command).resolves({ KeyCount: 1000, IsTruncated: true });
  const aurora = await validateRestore(event(), deps());
  expect(aurora).toMatchObject({ status: 'FAILED', message: expect.stringMatching(/cluster awsbackup-restore-test-c is creating, not available/) });
  const bucket = await validateRestore(event(), deps());
  expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'awsbackup-restore-test-b' });
  expect(bucket).toMatchObject({ status: 'SUCCESSFUL', message: expect.stringMatching(/lists more than 1000 objects/) });
});

test('restore jobs of other plans and manual restores are skipped without reporting', async () => {
  backup.on(DescribeRestoreJobCommand).resolves(job(RESTORED, SOURCE, 10, 'arn:aws:backup:eu-west-1:111111111111:restore-testing-plan:Other'));
  const out = await validateRestore(event(), deps());
  expect(out.status).toBe('SKIPPED');
  expect(backup).not.toHaveReceivedCommand(PutRestoreValidationResultCommand);
  expect(cloudwatch).not.toHaveReceivedCommand(PutMetricDataCommand);
});

test('untagged (imported) sources take their policy from POLICY_BY_ARN; unknown ones are Unassigned', async () => {
  backup.on(DescribeRestoreJobCommand).resolves(job(RESTORED));
  dynamodb.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
  dynamodb.on(ScanCommand).resolves({ Count: 0 });
  await validateRestore(event(), deps({ POLICY_BY_ARN: JSON.stringify({ [SOURCE]: 'QA-imported' }) }));
  expect(tagging).not.toHaveReceivedCommand(GetResourcesCommand);
  expect(metrics()[0]).toEqual(['RestoreValidationSuccess', 1, { Policy: 'QA-imported' }]);
  cloudwatch.resetHistory();
  tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
  await validateRestore(event(), deps());
  expect(metrics()[0]).toEqual(['RestoreValidationSuccess', 1, { Policy: 'Unassigned' }]);
});

test('throttled DescribeRestoreJob is retried', async () => {
  backup.on(DescribeRestoreJobCommand)
    .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
    .resolves(job('arn:aws:s3:::awsbackup-restore-test-b', 'arn:aws:s3:::archive'));
  s3.on(ListObjectsV2Command).resolves({ KeyCount: 2 });
  const out = await validateRestore(event(), deps());
  expect(backup).toHaveReceivedCommandTimes(DescribeRestoreJobCommand, 2);
  expect(out.status).toBe('SUCCESSFUL');
});

test('an event without a restore job id is rejected', async () => {
  await expect(validateRestore({ detail: {} } as never, deps())).rejects.toThrow(/no detail.restoreJobId/);
});
