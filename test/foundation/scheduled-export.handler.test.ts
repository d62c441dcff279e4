import {
  DynamoDBClient,
  ExportTableToPointInTimeCommand,
  PointInTimeRecoveryUnavailableException,
  TableNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  DescribeExportTasksCommand,
  ExportTaskAlreadyExistsFault,
  KMSKeyNotAccessibleFault,
  RDSClient,
  StartExportTaskCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  datedPrefix,
  dynamoDbClientToken,
  exportPeriod,
  handler,
  rdsExportTaskIdentifier,
} from '../../src/foundation/handler/scheduled-export';

const rds = mockClient(RDSClient);
const dynamodb = mockClient(DynamoDBClient);

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const INSTANCE_ARN = `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-db`;
const CLUSTER_ARN = `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:orders-cluster`;
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Orders`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/rds-export`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const SCHEDULED = '2025-03-01T02:00:00Z';

// The service-defined identifier rules for StartExportTask (as for DB identifiers).
const EXPORT_ID_FORMAT = /^[a-z](?!.*--)[a-z0-9-]{0,58}[a-z0-9]$/;

function rdsEvent(overrides: Record<string, unknown> = {}) {
  return {
    kind: 'rds-snapshot-export',
    sourceArn: INSTANCE_ARN,
    bucket: 'archive-bucket',
    prefix: 'samples/monthly/orders-db',
    kmsKeyId: KEY_ARN,
    exportRoleArn: ROLE_ARN,
    scheduledTime: SCHEDULED,
    ...overrides,
  };
}

function ddbEvent(overrides: Record<string, unknown> = {}) {
  return {
    kind: 'dynamodb-table-export',
    tableArn: TABLE_ARN,
    bucket: 'archive-bucket',
    prefix: 'samples/monthly/orders',
    scheduledTime: SCHEDULED,
    ...overrides,
  };
}

function instanceSnapshot(id: string, created: string, status = 'available') {
  return {
    DBSnapshotIdentifier: `rds:${id}`,
    DBSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:rds:${id}`,
    SnapshotCreateTime: new Date(created),
    Status: status,
    SnapshotType: 'automated',
  };
}

let logSpy: jest.SpyInstance;

beforeEach(() => {
  rds.reset();
  dynamodb.reset();
  process.env.AWS_REGION = REGION;
  logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  logSpy.mockRestore();
});

describe('rds-snapshot-export', () => {
  test('exports the newest available automated snapshot of a DB instance', async () => {
    // GIVEN snapshots over two pages, the newest one still being created
    rds.on(DescribeDBSnapshotsCommand)
      .resolvesOnce({
        DBSnapshots: [
          instanceSnapshot('orders-db-2025-02-27-03-10', '2025-02-27T03:10:00Z'),
          instanceSnapshot('orders-db-2025-02-28-03-10', '2025-02-28T03:10:00Z'),
        ],
        Marker: 'page-2',
      })
      .resolvesOnce({
        DBSnapshots: [
          instanceSnapshot('orders-db-2025-02-26-03-10', '2025-02-26T03:10:00Z'),
          instanceSnapshot('orders-db-2025-03-01-03-10', '2025-03-01T03:10:00Z', 'creating'),
        ],
      });
    rds.on(StartExportTaskCommand).resolves({ Status: 'STARTING' });

    // WHEN
    const result = await handler(rdsEvent({ exportOnly: ['orders'] }));

    // THEN
    expect(rds).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 2);
    expect(rds).toHaveReceivedNthSpecificCommandWith(1, DescribeDBSnapshotsCommand, {
      DBInstanceIdentifier: 'orders-db',
      SnapshotType: 'automated',
      MaxRecords: 100,
    });
    expect(rds).toHaveReceivedNthSpecificCommandWith(2, DescribeDBSnapshotsCommand, {
      DBInstanceIdentifier: 'orders-db',
      SnapshotType: 'automated',
      Marker: 'page-2',
    });
    expect(rds).not.toHaveReceivedCommand(DescribeDBClusterSnapshotsCommand);
    const id = rdsExportTaskIdentifier(rdsEvent(), exportPeriod(SCHEDULED));
    expect(rds).toHaveReceivedCommandWith(StartExportTaskCommand, {
      ExportTaskIdentifier: id,
      SourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:rds:orders-db-2025-02-28-03-10`,
      S3BucketName: 'archive-bucket',
      S3Prefix: 'samples/monthly/orders-db/2025/03/',
      IamRoleArn: ROLE_ARN,
      KmsKeyId: KEY_ARN,
      ExportOnly: ['orders'],
    });
    expect(result).toEqual({
      kind: 'rds-snapshot-export',
      exportTaskIdentifier: id,
      outcome: 'STARTED',
      snapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:rds:orders-db-2025-02-28-03-10`,
      s3Bucket: 'archive-bucket',
      s3Prefix: 'samples/monthly/orders-db/2025/03/',
      status: 'STARTING',
    });
  });

  test('omits ExportOnly when not given', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [instanceSnapshot('a', '2025-02-28T03:10:00Z')] });
    rds.on(StartExportTaskCommand).resolves({ Status: 'STARTING' });

    await handler(rdsEvent());

    expect(rds.commandCalls(StartExportTaskCommand)[0].args[0].input.ExportOnly).toBeUndefined();
  });

  test('exports the newest available automated snapshot of a DB cluster', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [
        {
          DBClusterSnapshotIdentifier: 'rds:orders-cluster-2025-02-28-04-00',
          DBClusterSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:rds:orders-cluster-2025-02-28-04-00`,
          SnapshotCreateTime: new Date('2025-02-28T04:00:00Z'),
          Status: 'available',
        },
        {
          DBClusterSnapshotIdentifier: 'rds:orders-cluster-2025-02-27-04-00',
          DBClusterSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:rds:orders-cluster-2025-02-27-04-00`,
          SnapshotCreateTime: new Date('2025-02-27T04:00:00Z'),
          Status: 'available',
        },
      ],
    });
    rds.on(StartExportTaskCommand).resolves({ Status: 'STARTING' });

    const result = await handler(rdsEvent({ sourceArn: CLUSTER_ARN, prefix: '/samples/yearly/' }));

    expect(rds).toHaveReceivedCommandWith(DescribeDBClusterSnapshotsCommand, {
      DBClusterIdentifier: 'orders-cluster',
      SnapshotType: 'automated',
    });
    expect(rds).not.toHaveReceivedCommand(DescribeDBSnapshotsCommand);
    expect(rds).toHaveReceivedCommandWith(StartExportTaskCommand, {
      SourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:rds:orders-cluster-2025-02-28-04-00`,
      S3Prefix: 'samples/yearly/2025/03/',
    });
    expect(result).toMatchObject({ kind: 'rds-snapshot-export', outcome: 'STARTED' });
    expect((result as { exportTaskIdentifier: string }).exportTaskIdentifier).toMatch(/^orders-cluster-202503-[0-9a-f]{8}$/);
  });

  test('no available snapshot is an error naming the source', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [instanceSnapshot('orders-db-2025-03-01-03-10', '2025-03-01T03:10:00Z', 'creating')],
    });

    await expect(handler(rdsEvent())).rejects.toThrow(/No available automated snapshot found for DB instance "orders-db"/);
    expect(rds).not.toHaveReceivedCommand(StartExportTaskCommand);
  });

  test('no snapshot at all is an error', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });

    await expect(handler(rdsEvent({ sourceArn: CLUSTER_ARN }))).rejects.toThrow(/No available automated snapshot found for DB cluster "orders-cluster"/);
  });

  test('an export task that already exists for this month counts as success', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [instanceSnapshot('a', '2025-02-28T03:10:00Z')] });
    rds.on(StartExportTaskCommand).rejects(new ExportTaskAlreadyExistsFault({ message: 'exists', $metadata: {} }));
    rds.on(DescribeExportTasksCommand).resolves({
      ExportTasks: [{ ExportTaskIdentifier: 'x', Status: 'COMPLETE', S3Prefix: 'samples/monthly/orders-db/2025/03/' }],
    });

    const result = await handler(rdsEvent());

    const id = rdsExportTaskIdentifier(rdsEvent(), exportPeriod(SCHEDULED));
    expect(rds).toHaveReceivedCommandWith(DescribeExportTasksCommand, { ExportTaskIdentifier: id });
    expect(result).toEqual({
      kind: 'rds-snapshot-export',
      exportTaskIdentifier: id,
      outcome: 'ALREADY_EXISTS',
      s3Bucket: 'archive-bucket',
      s3Prefix: 'samples/monthly/orders-db/2025/03/',
      status: 'COMPLETE',
    });
  });

  test('an existing task of this month that FAILED is reported as an error', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [instanceSnapshot('a', '2025-02-28T03:10:00Z')] });
    rds.on(StartExportTaskCommand).rejects(new ExportTaskAlreadyExistsFault({ message: 'exists', $metadata: {} }));
    rds.on(DescribeExportTasksCommand).resolves({ ExportTasks: [{ Status: 'FAILED', FailureCause: 'S3 access denied' }] });

    await expect(handler(rdsEvent())).rejects.toThrow(/already exists with status FAILED \(S3 access denied\)/);
  });

  test('other StartExportTask errors name the API error', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [instanceSnapshot('a', '2025-02-28T03:10:00Z')] });
    rds.on(StartExportTaskCommand).rejects(new KMSKeyNotAccessibleFault({ message: 'key disabled', $metadata: {} }));

    await expect(handler(rdsEvent())).rejects.toThrow(/RDS StartExportTask failed for snapshot .* \(KMSKeyNotAccessibleFault\): key disabled\. .*kms:CreateGrant/);
  });

  test('a source in another region is rejected', async () => {
    await expect(handler(rdsEvent({ sourceArn: `arn:aws:rds:us-east-1:${ACCOUNT}:db:orders-db` })))
      .rejects.toThrow(/"sourceArn": the resource is in us-east-1 but this function runs in eu-west-1/);
    expect(rds).not.toHaveReceivedAnyCommand();
  });
});

describe('dynamodb-table-export', () => {
  test('exports with SSE-KMS when a key is given', async () => {
    dynamodb.on(ExportTableToPointInTimeCommand).resolves({
      ExportDescription: { ExportArn: `${TABLE_ARN}/export/01700000000000-abcdef12`, ExportStatus: 'IN_PROGRESS' },
    });

    const event = ddbEvent({ kmsKeyId: KEY_ARN, bucketOwner: '210987654321' });
    const result = await handler(event);

    expect(dynamodb).toHaveReceivedCommandTimes(ExportTableToPointInTimeCommand, 1);
    const input = dynamodb.commandCalls(ExportTableToPointInTimeCommand)[0].args[0].input;
    expect(input).toEqual({
      TableArn: TABLE_ARN,
      ClientToken: dynamoDbClientToken(event as never, exportPeriod(SCHEDULED)),
      S3Bucket: 'archive-bucket',
      S3BucketOwner: '210987654321',
      S3Prefix: 'samples/monthly/orders/2025/03/',
      S3SseAlgorithm: 'KMS',
      S3SseKmsKeyId: KEY_ARN,
      ExportFormat: 'DYNAMODB_JSON',
    });
    expect(input.ExportTime).toBeUndefined();
    expect(result).toEqual({
      kind: 'dynamodb-table-export',
      exportArn: `${TABLE_ARN}/export/01700000000000-abcdef12`,
      s3Bucket: 'archive-bucket',
      s3Prefix: 'samples/monthly/orders/2025/03/',
      status: 'IN_PROGRESS',
    });
  });

  test('exports with SSE-S3 (AES256) without a key', async () => {
    dynamodb.on(ExportTableToPointInTimeCommand).resolves({ ExportDescription: { ExportArn: `${TABLE_ARN}/export/1` } });

    await handler(ddbEvent({ prefix: '' }));

    const input = dynamodb.commandCalls(ExportTableToPointInTimeCommand)[0].args[0].input;
    expect(input).toEqual({
      TableArn: TABLE_ARN,
      ClientToken: expect.stringMatching(/^export-202503-[0-9a-f]{32}$/),
      S3Bucket: 'archive-bucket',
      S3Prefix: '2025/03/',
      S3SseAlgorithm: 'AES256',
      ExportFormat: 'DYNAMODB_JSON',
    });
  });

  test('PITR disabled is mapped to a clear message', async () => {
    dynamodb.on(ExportTableToPointInTimeCommand).rejects(
      new PointInTimeRecoveryUnavailableException({ message: 'Point in time recovery is not enabled for table', $metadata: {} }),
    );

    await expect(handler(ddbEvent()))
      .rejects.toThrow(/Point-in-time recovery \(PITR\) is not enabled on table arn:aws:dynamodb:eu-west-1:123456789012:table\/Orders.*PointInTimeRecoveryUnavailableException/);
  });

  test('other errors name the API error', async () => {
    dynamodb.on(ExportTableToPointInTimeCommand).rejects(new TableNotFoundException({ message: 'gone', $metadata: {} }));

    await expect(handler(ddbEvent())).rejects.toThrow(/does not exist \(TableNotFoundException: gone\)/);
  });

  test('a missing ExportArn in the response is an error', async () => {
    dynamodb.on(ExportTableToPointInTimeCommand).resolves({});

    await expect(handler(ddbEvent())).rejects.toThrow(/returned no ExportArn/);
  });
});

describe('event validation', () => {
  test.each([
    ['kind', { kind: undefined }],
    ['sourceArn', { sourceArn: undefined }],
    ['bucket', { bucket: undefined }],
    ['prefix', { prefix: undefined }],
    ['kmsKeyId', { kmsKeyId: undefined }],
    ['exportRoleArn', { exportRoleArn: undefined }],
  ])('rds: missing %s is an error naming the field', async (field, overrides) => {
    await expect(handler(rdsEvent(overrides))).rejects.toThrow(new RegExp(`"${field}"`));
    expect(rds).not.toHaveReceivedAnyCommand();
  });

  test.each([
    ['tableArn', { tableArn: undefined }],
    ['bucket', { bucket: '' }],
    ['prefix', { prefix: 42 }],
  ])('dynamodb: missing or bad %s is an error naming the field', async (field, overrides) => {
    await expect(handler(ddbEvent(overrides))).rejects.toThrow(new RegExp(`"${field}"`));
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });

  test.each([
    ['kind', rdsEvent({ kind: 'rds-export' })],
    ['sourceArn', rdsEvent({ sourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:orders` })],
    ['exportRoleArn', rdsEvent({ exportRoleArn: 'rds-export' })],
    ['exportOnly', rdsEvent({ exportOnly: 'orders' })],
    ['bucket', rdsEvent({ bucket: 'Not_A_Bucket' })],
    ['scheduledTime', rdsEvent({ scheduledTime: 'yesterday' })],
    ['tableArn', ddbEvent({ tableArn: 'Orders' })],
    ['bucketOwner', ddbEvent({ bucketOwner: '1234' })],
    ['kmsKeyId', ddbEvent({ kmsKeyId: 7 })],
  ])('an invalid %s is an error naming the field', async (field, event) => {
    await expect(handler(event)).rejects.toThrow(new RegExp(`"${field}"`));
  });

  test.each([null, 'not json', [], 42])('a non-object event (%p) is rejected', async (event) => {
    await expect(handler(event)).rejects.toThrow(/Invalid event/);
  });

  test('a JSON string event is accepted', async () => {
    dynamodb.on(ExportTableToPointInTimeCommand).resolves({ ExportDescription: { ExportArn: `${TABLE_ARN}/export/1` } });

    await expect(handler(JSON.stringify(ddbEvent()))).resolves.toMatchObject({ exportArn: `${TABLE_ARN}/export/1` });
  });
});

describe('deterministic identifiers', () => {
  test('same month gives the same export id and client token; another month does not', () => {
    const a = exportPeriod('2025-03-01T00:00:00Z');
    const b = exportPeriod('2025-03-31T23:59:59Z');
    const c = exportPeriod('2025-04-01T00:00:00Z');
    expect(rdsExportTaskIdentifier(rdsEvent(), a)).toBe(rdsExportTaskIdentifier(rdsEvent(), b));
    expect(rdsExportTaskIdentifier(rdsEvent(), a)).not.toBe(rdsExportTaskIdentifier(rdsEvent(), c));
    const ddb = ddbEvent() as never;
    expect(dynamoDbClientToken(ddb, a)).toBe(dynamoDbClientToken(ddb, b));
    expect(dynamoDbClientToken(ddb, a)).not.toBe(dynamoDbClientToken(ddb, c));
  });

  test('a different destination gives a different id (monthly vs yearly sample)', () => {
    const p = exportPeriod(SCHEDULED);
    expect(rdsExportTaskIdentifier(rdsEvent(), p)).not.toBe(rdsExportTaskIdentifier(rdsEvent({ prefix: 'samples/yearly' }), p));
    expect(dynamoDbClientToken(ddbEvent() as never, p)).not.toBe(dynamoDbClientToken(ddbEvent({ prefix: 'other' }) as never, p));
  });

  test('retries resolve the month from scheduledTime, not from the clock', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [instanceSnapshot('a', '2025-03-31T03:10:00Z')] });
    rds.on(StartExportTaskCommand).resolves({});

    await handler(rdsEvent({ scheduledTime: '2025-03-31T23:59:00Z' }));

    expect(rds).toHaveReceivedCommandWith(StartExportTaskCommand, { S3Prefix: 'samples/monthly/orders-db/2025/03/' });
  });

  test.each([
    'orders-db',
    'a',
    'x'.repeat(63),
    'db-with-a-very-long-identifier-that-reaches-the-63-character-mx',
    'orders--db',
    `${'a'.repeat(43)}-${'b'.repeat(19)}`,
    'A1-UPPER',
  ])('export id for source "%s" is valid', (id) => {
    const value = rdsExportTaskIdentifier(rdsEvent({ sourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${id}` }), exportPeriod(SCHEDULED));
    expect(value.length).toBeLessThanOrEqual(60);
    expect(value).toMatch(EXPORT_ID_FORMAT);
    expect(value).toContain('-202503-');
  });

  test('dated prefixes ignore surrounding slashes', () => {
    const p = exportPeriod('2024-12-15T10:00:00Z');
    expect(datedPrefix('a/b/', p)).toBe('a/b/2024/12/');
    expect(datedPrefix('/a', p)).toBe('a/2024/12/');
    expect(datedPrefix('', p)).toBe('2024/12/');
  });

  test('without scheduledTime the current UTC month is used', () => {
    expect(exportPeriod(undefined, new Date('2026-01-31T23:30:00-05:00'))).toEqual({ year: '2026', month: '02', key: '2026-02' });
  });
});

describe('logging', () => {
  test('one JSON line per run, without the role or key', async () => {
    dynamodb.on(ExportTableToPointInTimeCommand).resolves({ ExportDescription: { ExportArn: `${TABLE_ARN}/export/1` } });

    await handler(ddbEvent({ kmsKeyId: KEY_ARN }));

    expect(logSpy).toHaveBeenCalledTimes(1);
    const line = JSON.parse(logSpy.mock.calls[0][0]);
    expect(line).toMatchObject({ handler: 'scheduled-export', kind: 'dynamodb-table-export', result: 'success', exportArn: `${TABLE_ARN}/export/1` });
    expect(logSpy.mock.calls[0][0]).not.toContain(KEY_ARN);
  });

  test('one JSON line on failure too', async () => {
    await expect(handler({ kind: 'nope' })).rejects.toThrow();

    expect(logSpy).toHaveBeenCalledTimes(1);
    expect(JSON.parse(logSpy.mock.calls[0][0])).toMatchObject({ result: 'failed' });
  });
});
