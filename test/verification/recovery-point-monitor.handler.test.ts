import { BackupClient, ListProtectedResourcesCommand, ListRecoveryPointsByResourceCommand } from '@aws-sdk/client-backup';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeContinuousBackupsCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { identifierOf, isRetryable, kindOf, withRetry } from '../../src/verification/handler/common';
import { monitor, MonitorDeps } from '../../src/verification/handler/recovery-point-monitor';

const backup = mockClient(BackupClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const dynamodb = mockClient(DynamoDBClient);
const rds = mockClient(RDSClient);
const cloudwatch = mockClient(CloudWatchClient);

const A = 'arn:aws:dynamodb:eu-west-1:111111111111:table/Orders';
const B = 'arn:aws:dynamodb:eu-west-1:111111111111:table/Payments';
const DB = 'arn:aws:rds:eu-west-1:111111111111:db:reporting';
const CLUSTER = 'arn:aws:rds:eu-west-1:111111111111:cluster:ledger';
const BUCKET = 'arn:aws:s3:::archive-bucket';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);

function throttling(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
}

function deps(extra: Partial<MonitorDeps> = {}): MonitorDeps {
  return {
    backup: new BackupClient({ region: 'eu-west-1' }),
    tagging: new ResourceGroupsTaggingAPIClient({ region: 'eu-west-1' }),
    dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
    rds: new RDSClient({ region: 'eu-west-1' }),
    cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
    now: () => NOW,
    retry: { sleep: async () => {}, random: () => 0.5 },
    ...extra,
  };
}

function datums() {
  return cloudwatch.commandCalls(PutMetricDataCommand).flatMap((c) => {
    expect(c.args[0].input.Namespace).toBe('CdkBackupDr/Verification');
    return c.args[0].input.MetricData ?? [];
  }).map((d) => ({ name: d.MetricName, value: d.Value, dims: Object.fromEntries((d.Dimensions ?? []).map((x) => [x.Name, x.Value])) }));
}

beforeEach(() => {
  for (const m of [backup, tagging, dynamodb, rds, cloudwatch]) m.reset();
  cloudwatch.on(PutMetricDataCommand).resolves({});
  jest.spyOn(console, 'log').mockImplementation(() => {});
  jest.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => jest.restoreAllMocks());

describe('recovery-point monitor', () => {
  test('reads every page of tagged resources, protected resources and recovery points; publishes the oldest as the policy age', async () => {
    tagging.on(GetResourcesCommand)
      .resolvesOnce({ ResourceTagMappingList: [{ ResourceARN: A }], PaginationToken: 't2' })
      .resolvesOnce({ ResourceTagMappingList: [{ ResourceARN: B }], PaginationToken: '' });
    backup.on(ListProtectedResourcesCommand)
      .resolvesOnce({ Results: [{ ResourceArn: A }], NextToken: 'p2' })
      .resolvesOnce({ Results: [{ ResourceArn: B }] });
    backup.on(ListRecoveryPointsByResourceCommand, { ResourceArn: A })
      .resolvesOnce({ RecoveryPoints: [{ CreationDate: ago(7200), Status: 'COMPLETED' }], NextToken: 'r2' })
      .resolvesOnce({ RecoveryPoints: [{ CreationDate: ago(600), Status: 'COMPLETED' }, { CreationDate: ago(60), Status: 'CREATING' }] });
    backup.on(ListRecoveryPointsByResourceCommand, { ResourceArn: B })
      .resolves({ RecoveryPoints: [{ CreationDate: ago(3600), Status: 'AVAILABLE' }, { CreationDate: ago(30), Status: 'EXPIRED' }] });

    const out = await monitor({ policy: 'Pro-rpo1440m-rto480m', rpoSeconds: 86400 }, deps());

    expect(tagging).toHaveReceivedCommandTimes(GetResourcesCommand, 2);
    const pages = tagging.commandCalls(GetResourcesCommand).map((c) => c.args[0].input);
    expect(pages[0]).toMatchObject({ TagFilters: [{ Key: 'cdk-backup-dr:policy', Values: ['Pro-rpo1440m-rto480m'] }], PaginationToken: undefined });
    expect(pages[1]).toMatchObject({ PaginationToken: 't2' });
    expect(backup).toHaveReceivedCommandTimes(ListProtectedResourcesCommand, 2);
    expect(backup).toHaveReceivedCommandWith(ListRecoveryPointsByResourceCommand, { ResourceArn: A, NextToken: 'r2' });
    // Only completed/available points count: A's newest usable is 600 s old (not the CREATING one), B's 3600 s (not the EXPIRED one).
    expect(out.resources.map((r) => [r.arn, r.ageSeconds])).toEqual([[A, 600], [B, 3600]]);
    expect(out.policyAgeSeconds).toBe(3600);
    expect(datums()).toEqual(expect.arrayContaining([
      { name: 'RecoveryPointAgeSeconds', value: 600, dims: { Policy: 'Pro-rpo1440m-rto480m', Resource: A } },
      { name: 'RecoveryPointAgeSeconds', value: 3600, dims: { Policy: 'Pro-rpo1440m-rto480m', Resource: B } },
      { name: 'RecoveryPointAgeSeconds', value: 3600, dims: { Policy: 'Pro-rpo1440m-rto480m' } },
      { name: 'ResourcesWithoutRecoveryPoint', value: 0, dims: { Policy: 'Pro-rpo1440m-rto480m' } },
    ]));
  });

  test('a resource without any recovery point leaves out the policy data point (missing data is breaching) and is logged', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: A }, { ResourceARN: B }] });
    backup.on(ListProtectedResourcesCommand).resolves({ Results: [{ ResourceArn: A }, { ResourceArn: B }] });
    backup.on(ListRecoveryPointsByResourceCommand, { ResourceArn: A }).resolves({ RecoveryPoints: [{ CreationDate: ago(100), Status: 'COMPLETED' }] });
    backup.on(ListRecoveryPointsByResourceCommand, { ResourceArn: B }).resolves({ RecoveryPoints: [] });
    const errors = jest.spyOn(console, 'error');

    const out = await monitor({ policy: 'P' }, deps());

    expect(out.policyAgeSeconds).toBeUndefined();
    const d = datums();
    expect(d).not.toContainEqual(expect.objectContaining({ dims: { Policy: 'P' }, name: 'RecoveryPointAgeSeconds' }));
    expect(d).toContainEqual({ name: 'ResourcesWithoutRecoveryPoint', value: 1, dims: { Policy: 'P' } });
    expect(d).toContainEqual({ name: 'RecoveryPointAgeSeconds', value: 100, dims: { Policy: 'P', Resource: A } });
    expect(errors.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/resource without a recovery point.*Payments.*no recovery point/);
  });

  test('a resource no backup selection covers is reported as unprotected, without listing its recovery points', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: A }] });
    backup.on(ListProtectedResourcesCommand).resolves({ Results: [] });

    const out = await monitor({ policy: 'P' }, deps());

    expect(backup).not.toHaveReceivedCommand(ListRecoveryPointsByResourceCommand);
    expect(out.resources[0].problem).toMatch(/not protected by AWS Backup/);
    expect(out.policyAgeSeconds).toBeUndefined();
  });

  test('no resource at all publishes no policy age (the alarm fires on missing data)', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
    backup.on(ListProtectedResourcesCommand).resolves({ Results: [] });
    const out = await monitor({ policy: 'P' }, deps());
    expect(out.resources).toEqual([]);
    expect(datums()).toEqual([{ name: 'ResourcesWithoutRecoveryPoint', value: 0, dims: { Policy: 'P' } }]);
  });

  test('native PITR: the latest restorable time counts when it is newer than the last AWS Backup recovery point', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: A }, { ResourceARN: DB }, { ResourceARN: CLUSTER }] });
    backup.on(ListProtectedResourcesCommand).resolves({ Results: [{ ResourceArn: A }, { ResourceArn: DB }, { ResourceArn: CLUSTER }] });
    backup.on(ListRecoveryPointsByResourceCommand).resolves({ RecoveryPoints: [{ CreationDate: ago(20 * 3600), Status: 'COMPLETED' }] });
    dynamodb.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED', LatestRestorableDateTime: ago(300) },
      },
    });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ LatestRestorableTime: ago(240) }] });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ LatestRestorableTime: ago(180) }] });

    const out = await monitor({ policy: 'P', nativeKinds: ['DYNAMODB_TABLE', 'RDS_INSTANCE', 'AURORA_CLUSTER'] }, deps());

    expect(dynamodb).toHaveReceivedCommandWith(DescribeContinuousBackupsCommand, { TableName: A });
    expect(rds).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { DBInstanceIdentifier: DB });
    expect(rds).toHaveReceivedCommandWith(DescribeDBClustersCommand, { DBClusterIdentifier: CLUSTER });
    expect(Object.fromEntries(out.resources.map((r) => [r.arn, r.ageSeconds]))).toEqual({ [A]: 300, [DB]: 240, [CLUSTER]: 180 });
    expect(out.policyAgeSeconds).toBe(300);
  });

  test('S3 continuous backup: the protected resource\'s LastBackupTime stands in for the latest restorable time', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: BUCKET }] });
    backup.on(ListProtectedResourcesCommand).resolves({ Results: [{ ResourceArn: BUCKET, LastBackupTime: ago(120) }] });
    // The continuous recovery point's CreationDate is when continuous backup started, days ago.
    backup.on(ListRecoveryPointsByResourceCommand).resolves({ RecoveryPoints: [{ CreationDate: ago(5 * 86400), Status: 'AVAILABLE' }] });
    const out = await monitor({ policy: 'P', nativeKinds: ['S3_BUCKET'] }, deps());
    expect(out.resources[0]).toMatchObject({ ageSeconds: 120, latestRestorableTime: ago(120).toISOString() });
  });

  test('PITR disabled: falls back to the recovery point, and the native check is not asked for kinds outside nativeKinds', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: A }, { ResourceARN: BUCKET }] });
    backup.on(ListProtectedResourcesCommand).resolves({ Results: [{ ResourceArn: A }, { ResourceArn: BUCKET }] });
    backup.on(ListRecoveryPointsByResourceCommand).resolves({ RecoveryPoints: [{ CreationDate: ago(5000), Status: 'COMPLETED' }] });
    dynamodb.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: { ContinuousBackupsStatus: 'DISABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' } },
    });
    const out = await monitor({ policy: 'P', nativeKinds: ['DYNAMODB_TABLE'] }, deps());
    expect(out.resources.map((r) => r.ageSeconds)).toEqual([5000, 5000]);
    expect(rds.calls()).toHaveLength(0);
  });

  test('throttling is retried with back-off until the call succeeds', async () => {
    const sleeps: number[] = [];
    tagging.on(GetResourcesCommand).rejectsOnce(throttling()).resolves({ ResourceTagMappingList: [{ ResourceARN: A }] });
    backup.on(ListProtectedResourcesCommand).rejectsOnce(throttling()).rejectsOnce(throttling()).resolves({ Results: [{ ResourceArn: A }] });
    backup.on(ListRecoveryPointsByResourceCommand).rejectsOnce(throttling()).resolves({ RecoveryPoints: [{ CreationDate: ago(42), Status: 'COMPLETED' }] });
    cloudwatch.on(PutMetricDataCommand).rejectsOnce(throttling()).resolves({});

    const out = await monitor({ policy: 'P' }, deps({ retry: { sleep: async (ms) => { sleeps.push(ms); }, random: () => 0.5, baseDelayMs: 100 } }));

    expect(out.policyAgeSeconds).toBe(42);
    expect(backup).toHaveReceivedCommandTimes(ListProtectedResourcesCommand, 3);
    expect(cloudwatch).toHaveReceivedCommandTimes(PutMetricDataCommand, 2);
    // Exponential back-off with jitter: the second retry of ListProtectedResources waits twice as long as the first.
    expect(sleeps).toEqual([50, 50, 100, 50, 50]);
  });

  test('persistent throttling fails the run with the API named (the errors alarm fires)', async () => {
    tagging.on(GetResourcesCommand).rejects(throttling());
    await expect(monitor({ policy: 'P' }, deps())).rejects.toThrow(/tag:GetResources: still throttled or failing after 6 attempts/);
    expect(tagging).toHaveReceivedCommandTimes(GetResourcesCommand, 6);
  });

  test('an access error is not retried', async () => {
    tagging.on(GetResourcesCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));
    await expect(monitor({ policy: 'P' }, deps())).rejects.toThrow(/denied/);
    expect(tagging).toHaveReceivedCommandTimes(GetResourcesCommand, 1);
  });

  test('clock edges: a recovery point stamped after the function clock counts as age 0; one exactly at the RPO is not over it', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: A }, { ResourceARN: B }] });
    backup.on(ListProtectedResourcesCommand).resolves({ Results: [{ ResourceArn: A }, { ResourceArn: B }] });
    backup.on(ListRecoveryPointsByResourceCommand, { ResourceArn: A }).resolves({ RecoveryPoints: [{ CreationDate: new Date(NOW.getTime() + 2500), Status: 'COMPLETED' }] });
    backup.on(ListRecoveryPointsByResourceCommand, { ResourceArn: B }).resolves({ RecoveryPoints: [{ CreationDate: ago(900), Status: 'COMPLETED' }] });
    const warn = jest.spyOn(console, 'log');
    const out = await monitor({ policy: 'P', rpoSeconds: 900 }, deps());
    expect(out.resources.map((r) => r.ageSeconds)).toEqual([0, 900]);
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).not.toMatch(/older than the RPO/);
  });

  test('explicit ARNs are monitored with the tagged ones; AWS Backup restore-test copies are ignored', async () => {
    tagging.on(GetResourcesCommand).resolves({
      ResourceTagMappingList: [{ ResourceARN: A }, { ResourceARN: 'arn:aws:dynamodb:eu-west-1:111111111111:table/awsbackup-restore-test-123' }],
    });
    backup.on(ListProtectedResourcesCommand).resolves({ Results: [{ ResourceArn: A }, { ResourceArn: DB }] });
    backup.on(ListRecoveryPointsByResourceCommand).resolves({ RecoveryPoints: [{ CreationDate: ago(10), Status: 'COMPLETED' }] });
    const out = await monitor({ policy: 'P', resources: [DB, A] }, deps());
    expect(out.resources.map((r) => r.arn)).toEqual([A, DB]);
  });

  test('an event without a policy is rejected', async () => {
    await expect(monitor({} as never, deps())).rejects.toThrow(/no policy/);
  });
});

describe('helpers', () => {
  test('resource kinds and identifiers from ARNs', () => {
    expect([kindOf(A), identifierOf(A)]).toEqual(['DYNAMODB_TABLE', 'Orders']);
    expect([kindOf(DB), identifierOf(DB)]).toEqual(['RDS_INSTANCE', 'reporting']);
    expect([kindOf(CLUSTER), identifierOf(CLUSTER)]).toEqual(['AURORA_CLUSTER', 'ledger']);
    expect([kindOf(BUCKET), identifierOf(BUCKET)]).toEqual(['S3_BUCKET', 'archive-bucket']);
    expect(kindOf('arn:aws:ec2:eu-west-1:1:volume/vol-1')).toBe('OTHER');
  });

  test('retryable errors', () => {
    expect(isRetryable(throttling())).toBe(true);
    expect(isRetryable({ name: 'X', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isRetryable({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } })).toBe(false);
  });

  test('withRetry caps the back-off at 20 s', async () => {
    const sleeps: number[] = [];
    const fn = jest.fn().mockRejectedValue(throttling());
    await expect(withRetry('x', fn, { attempts: 10, baseDelayMs: 1000, random: () => 0.999999, sleep: async (ms) => { sleeps.push(ms); } })).rejects.toThrow();
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(20_000);
    expect(fn).toHaveBeenCalledTimes(10);
  });
});
