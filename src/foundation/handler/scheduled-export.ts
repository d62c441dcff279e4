/**
 * EventBridge Scheduler target: the backup policy's "updated sample of data for each month/year" custom
 * periodic procedure. Each run starts one export to S3 and returns; the export itself runs asynchronously
 * in RDS or DynamoDB.
 *
 * Event (the schedule target's `Input`, JSON) is one of:
 *
 * - `{ kind: 'rds-snapshot-export', sourceArn, bucket, prefix, kmsKeyId, exportRoleArn, exportOnly?, scheduledTime? }`
 *   Finds the newest `available` automated snapshot of the DB instance (`arn:...:rds:...:db:<id>`,
 *   DescribeDBSnapshots) or DB cluster (`arn:...:rds:...:cluster:<id>`, DescribeDBClusterSnapshots) and
 *   calls StartExportTask (Parquet export) into `s3://<bucket>/<prefix>/<yyyy>/<mm>/`.
 *   The export task identifier is deterministic per source, destination and month, so a retried or
 *   repeated run in the same month gets ExportTaskAlreadyExistsFault, which counts as success unless that
 *   earlier task FAILED or was CANCELED (then the run fails so the error alarm fires).
 * - `{ kind: 'dynamodb-table-export', tableArn, bucket, prefix, kmsKeyId?, bucketOwner?, scheduledTime? }`
 *   ExportTableToPointInTime (full export of "now", DYNAMODB_JSON) into `s3://<bucket>/<prefix>/<yyyy>/<mm>/`,
 *   SSE-KMS with `kmsKeyId` when given, else SSE-S3 (AES256). The ClientToken is deterministic per table,
 *   destination and month (DynamoDB deduplicates identical requests for 8 hours).
 *
 * `scheduledTime` (optional ISO-8601) picks the month; set it to EventBridge Scheduler's
 * `<aws.scheduler.scheduled-time>` context attribute so that retries of one invocation always resolve to
 * the same month. Without it the current UTC time is used.
 *
 * Each run logs exactly one JSON line (no secrets) and either returns `{ exportTaskIdentifier }` /
 * `{ exportArn }` (plus details) or throws an Error whose message names the problem.
 *
 * IAM needed by the function: rds:DescribeDBSnapshots, rds:DescribeDBClusterSnapshots, rds:StartExportTask,
 * rds:DescribeExportTasks, iam:PassRole on `exportRoleArn` (to export.rds.amazonaws.com), kms:CreateGrant and
 * kms:DescribeKey on `kmsKeyId`; dynamodb:ExportTableToPointInTime on the table, s3:PutObject (and
 * s3:AbortMultipartUpload, s3:PutObjectAcl) on the bucket prefix, kms:GenerateDataKey and kms:Decrypt on `kmsKeyId`.
 */
import { createHash } from 'node:crypto';
// The AWS SDK is bundled into the asset by esbuild (`npx projen bundle`), so it is a devDependency.
// eslint-disable-next-line import/no-extraneous-dependencies
import { DynamoDBClient, ExportTableToPointInTimeCommand } from '@aws-sdk/client-dynamodb';
// eslint-disable-next-line import/no-extraneous-dependencies
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  DescribeExportTasksCommand,
  RDSClient,
  StartExportTaskCommand,
} from '@aws-sdk/client-rds';

const rds = new RDSClient({});
const dynamodb = new DynamoDBClient({});

export const RDS_SNAPSHOT_EXPORT = 'rds-snapshot-export';
export const DYNAMODB_TABLE_EXPORT = 'dynamodb-table-export';

export interface RdsSnapshotExportEvent {
  readonly kind: 'rds-snapshot-export';
  /** ARN of the DB instance (`:db:`) or DB cluster (`:cluster:`). */
  readonly sourceArn: string;
  readonly bucket: string;
  /** Key prefix without the date part; may be empty. Leading/trailing slashes are ignored. */
  readonly prefix: string;
  /** KMS key (ARN, id or alias) RDS encrypts the export with. Required by StartExportTask. */
  readonly kmsKeyId: string;
  /** Role RDS assumes to write to the bucket (trusts export.rds.amazonaws.com). */
  readonly exportRoleArn: string;
  /** Optional ExportOnly list (`database`, `database.table`, `database.schema`, `database.schema.table`). */
  readonly exportOnly?: string[];
  /** ISO-8601 time that selects the month; default now. */
  readonly scheduledTime?: string;
}

export interface DynamoDbTableExportEvent {
  readonly kind: 'dynamodb-table-export';
  readonly tableArn: string;
  readonly bucket: string;
  readonly prefix: string;
  /** SSE-KMS key for the exported objects; SSE-S3 (AES256) when absent. */
  readonly kmsKeyId?: string;
  /** 12-digit account id owning the bucket; required by DynamoDB when the bucket is in another account. */
  readonly bucketOwner?: string;
  readonly scheduledTime?: string;
}

export type ScheduledExportEvent = RdsSnapshotExportEvent | DynamoDbTableExportEvent;

export interface RdsSnapshotExportResult {
  readonly kind: 'rds-snapshot-export';
  readonly exportTaskIdentifier: string;
  /** `STARTED`, or `ALREADY_EXISTS` when this month's export had been started before. */
  readonly outcome: 'STARTED' | 'ALREADY_EXISTS';
  /** Snapshot exported by this run (absent when the task already existed). */
  readonly snapshotArn?: string;
  readonly s3Bucket: string;
  readonly s3Prefix: string;
  /** Status of the export task as reported by RDS. */
  readonly status?: string;
}

export interface DynamoDbTableExportResult {
  readonly kind: 'dynamodb-table-export';
  readonly exportArn: string;
  readonly s3Bucket: string;
  readonly s3Prefix: string;
  readonly status?: string;
}

export type ScheduledExportResult = RdsSnapshotExportResult | DynamoDbTableExportResult;

export async function handler(event: unknown): Promise<ScheduledExportResult> {
  const started = Date.now();
  const log: Record<string, unknown> = { handler: 'scheduled-export' };
  try {
    const parsed = validateEvent(typeof event === 'string' ? parseJson(event) : event);
    log.kind = parsed.kind;
    log.bucket = parsed.bucket;
    const result = parsed.kind === RDS_SNAPSHOT_EXPORT
      ? await exportRdsSnapshot(parsed, log)
      : await exportDynamoDbTable(parsed, log);
    Object.assign(log, result);
    log.result = 'success';
    return result;
  } catch (e) {
    log.result = 'failed';
    log.errorName = (e as { name?: unknown })?.name;
    log.error = e instanceof Error ? e.message : String(e);
    throw e;
  } finally {
    log.durationMs = Date.now() - started;
    console.log(JSON.stringify(log));
  }
}

// ---------------------------------------------------------------------------------------------------------
// RDS
// ---------------------------------------------------------------------------------------------------------

interface Snapshot {
  readonly identifier: string;
  readonly arn: string;
  readonly createTime: Date;
}

async function exportRdsSnapshot(event: RdsSnapshotExportEvent, log: Record<string, unknown>): Promise<RdsSnapshotExportResult> {
  const source = parseRdsArn(event.sourceArn);
  log.sourceArn = event.sourceArn;
  assertSameRegion(source.region, 'sourceArn');
  const period = exportPeriod(event.scheduledTime);
  const s3Prefix = datedPrefix(event.prefix, period);
  const exportTaskIdentifier = rdsExportTaskIdentifier(event, period);
  log.exportTaskIdentifier = exportTaskIdentifier;

  const snapshot = source.type === 'cluster'
    ? await latestClusterSnapshot(source.identifier)
    : await latestInstanceSnapshot(source.identifier);
  if (!snapshot) {
    throw new Error(
      `No available automated snapshot found for DB ${source.type} "${source.identifier}" (${event.sourceArn}); ` +
      'check that automated backups are enabled (backup retention > 0) and a snapshot has completed',
    );
  }
  log.snapshotIdentifier = snapshot.identifier;
  log.snapshotArn = snapshot.arn;
  log.snapshotCreateTime = snapshot.createTime.toISOString();

  try {
    const out = await rds.send(new StartExportTaskCommand({
      ExportTaskIdentifier: exportTaskIdentifier,
      SourceArn: snapshot.arn,
      S3BucketName: event.bucket,
      S3Prefix: s3Prefix,
      IamRoleArn: event.exportRoleArn,
      KmsKeyId: event.kmsKeyId,
      ...(event.exportOnly && event.exportOnly.length > 0 ? { ExportOnly: event.exportOnly } : {}),
    }));
    return {
      kind: RDS_SNAPSHOT_EXPORT,
      exportTaskIdentifier,
      outcome: 'STARTED',
      snapshotArn: snapshot.arn,
      s3Bucket: event.bucket,
      s3Prefix,
      status: out.Status,
    };
  } catch (e) {
    if (errorName(e) !== 'ExportTaskAlreadyExistsFault') {
      throw awsError('RDS StartExportTask', `snapshot ${snapshot.arn}`, e);
    }
  }

  // Idempotent retry: this month's task exists. Succeed unless it ended badly.
  const existing = await describeExportTask(exportTaskIdentifier);
  const status = existing?.Status;
  if (status === 'FAILED' || status === 'CANCELED' || status === 'CANCELING') {
    throw new Error(
      `Export task "${exportTaskIdentifier}" for this month already exists with status ${status}` +
      `${existing?.FailureCause ? ` (${existing.FailureCause})` : ''}; start a replacement export manually`,
    );
  }
  return {
    kind: RDS_SNAPSHOT_EXPORT,
    exportTaskIdentifier,
    outcome: 'ALREADY_EXISTS',
    s3Bucket: event.bucket,
    s3Prefix: existing?.S3Prefix ?? s3Prefix,
    status,
  };
}

async function latestInstanceSnapshot(dbInstanceIdentifier: string): Promise<Snapshot | undefined> {
  let newest: Snapshot | undefined;
  let marker: string | undefined;
  do {
    let out;
    try {
      out = await rds.send(new DescribeDBSnapshotsCommand({
        DBInstanceIdentifier: dbInstanceIdentifier,
        SnapshotType: 'automated',
        MaxRecords: 100,
        Marker: marker,
      }));
    } catch (e) {
      throw awsError('RDS DescribeDBSnapshots', `DB instance "${dbInstanceIdentifier}"`, e);
    }
    for (const s of out.DBSnapshots ?? []) {
      if (s.Status === 'available' && s.DBSnapshotArn && s.SnapshotCreateTime) {
        newest = newer(newest, {
          identifier: s.DBSnapshotIdentifier ?? s.DBSnapshotArn,
          arn: s.DBSnapshotArn,
          createTime: new Date(s.SnapshotCreateTime),
        });
      }
    }
    marker = out.Marker;
  } while (marker);
  return newest;
}

async function latestClusterSnapshot(dbClusterIdentifier: string): Promise<Snapshot | undefined> {
  let newest: Snapshot | undefined;
  let marker: string | undefined;
  do {
    let out;
    try {
      out = await rds.send(new DescribeDBClusterSnapshotsCommand({
        DBClusterIdentifier: dbClusterIdentifier,
        SnapshotType: 'automated',
        MaxRecords: 100,
        Marker: marker,
      }));
    } catch (e) {
      throw awsError('RDS DescribeDBClusterSnapshots', `DB cluster "${dbClusterIdentifier}"`, e);
    }
    for (const s of out.DBClusterSnapshots ?? []) {
      if (s.Status === 'available' && s.DBClusterSnapshotArn && s.SnapshotCreateTime) {
        newest = newer(newest, {
          identifier: s.DBClusterSnapshotIdentifier ?? s.DBClusterSnapshotArn,
          arn: s.DBClusterSnapshotArn,
          createTime: new Date(s.SnapshotCreateTime),
        });
      }
    }
    marker = out.Marker;
  } while (marker);
  return newest;
}

function newer(a: Snapshot | undefined, b: Snapshot): Snapshot {
  return !a || b.createTime.getTime() > a.createTime.getTime() ? b : a;
}

async function describeExportTask(exportTaskIdentifier: string) {
  try {
    const out = await rds.send(new DescribeExportTasksCommand({ ExportTaskIdentifier: exportTaskIdentifier }));
    return out.ExportTasks?.[0];
  } catch (e) {
    throw awsError('RDS DescribeExportTasks', `export task "${exportTaskIdentifier}"`, e);
  }
}

/**
 * Deterministic StartExportTask identifier: `<source id>-<yyyymm>-<hash>`, at most 60 characters, lowercase
 * letters, digits and single hyphens, starting with a letter and not ending with a hyphen. The hash covers
 * the source ARN, bucket, prefix and month, so two schedules exporting one source to different places (a
 * monthly and a yearly sample) never collide, while every run for the same month and place does.
 */
export function rdsExportTaskIdentifier(
  event: Pick<RdsSnapshotExportEvent, 'sourceArn' | 'bucket' | 'prefix'>,
  period: ExportPeriod,
): string {
  const { identifier } = parseRdsArn(event.sourceArn);
  const suffix = `-${period.year}${period.month}-${shortHash([event.sourceArn, event.bucket, normalizePrefix(event.prefix), period.key], 8)}`;
  let base = identifier.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-').replace(/^-+/, '');
  if (!/^[a-z]/.test(base)) base = `x${base}`;
  base = base.slice(0, 60 - suffix.length).replace(/-+$/, '');
  return `${base}${suffix}`;
}

interface RdsSource {
  readonly type: 'instance' | 'cluster';
  readonly identifier: string;
  readonly region: string;
}

const RDS_ARN = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):(db|cluster):([A-Za-z][A-Za-z0-9-]{0,62})$/;

function parseRdsArn(arn: string): RdsSource {
  const match = RDS_ARN.exec(arn);
  if (!match) {
    throw new Error(
      `Invalid event field "sourceArn": ${JSON.stringify(arn)} is not a DB instance ARN (arn:<partition>:rds:<region>:<account>:db:<id>) ` +
      'or DB cluster ARN (arn:<partition>:rds:<region>:<account>:cluster:<id>)',
    );
  }
  return { region: match[1], type: match[3] === 'cluster' ? 'cluster' : 'instance', identifier: match[4] };
}

// ---------------------------------------------------------------------------------------------------------
// DynamoDB
// ---------------------------------------------------------------------------------------------------------

async function exportDynamoDbTable(event: DynamoDbTableExportEvent, log: Record<string, unknown>): Promise<DynamoDbTableExportResult> {
  log.tableArn = event.tableArn;
  assertSameRegion(event.tableArn.split(':')[3], 'tableArn');
  const period = exportPeriod(event.scheduledTime);
  const s3Prefix = datedPrefix(event.prefix, period);
  const clientToken = dynamoDbClientToken(event, period);
  log.clientToken = clientToken;
  let out;
  try {
    out = await dynamodb.send(new ExportTableToPointInTimeCommand({
      TableArn: event.tableArn,
      ClientToken: clientToken,
      S3Bucket: event.bucket,
      ...(event.bucketOwner ? { S3BucketOwner: event.bucketOwner } : {}),
      S3Prefix: s3Prefix,
      ...(event.kmsKeyId ? { S3SseAlgorithm: 'KMS', S3SseKmsKeyId: event.kmsKeyId } : { S3SseAlgorithm: 'AES256' }),
      ExportFormat: 'DYNAMODB_JSON',
    }));
  } catch (e) {
    switch (errorName(e)) {
      case 'PointInTimeRecoveryUnavailableException':
        throw new Error(
          `Point-in-time recovery (PITR) is not enabled on table ${event.tableArn}; exports to S3 need PITR ` +
          `(enable it on the table, e.g. through DynamoPitrBackup) (PointInTimeRecoveryUnavailableException: ${errorMessage(e)})`,
          { cause: e },
        );
      case 'TableNotFoundException':
        throw new Error(`Table ${event.tableArn} does not exist (TableNotFoundException: ${errorMessage(e)})`, { cause: e });
      case 'ExportConflictException':
        throw new Error(
          `DynamoDB export of ${event.tableArn} conflicts with an earlier request using client token ${clientToken} ` +
          `or with objects in s3://${event.bucket}/${s3Prefix} (ExportConflictException: ${errorMessage(e)})`,
          { cause: e },
        );
      default:
        throw awsError('DynamoDB ExportTableToPointInTime', `table ${event.tableArn}`, e);
    }
  }
  const exportArn = out.ExportDescription?.ExportArn;
  if (!exportArn) {
    throw new Error(`DynamoDB ExportTableToPointInTime returned no ExportArn for table ${event.tableArn}`);
  }
  return {
    kind: DYNAMODB_TABLE_EXPORT,
    exportArn,
    s3Bucket: event.bucket,
    s3Prefix,
    status: out.ExportDescription?.ExportStatus,
  };
}

/** Deterministic ClientToken per table, destination and month. */
export function dynamoDbClientToken(
  event: Pick<DynamoDbTableExportEvent, 'tableArn' | 'bucket' | 'prefix' | 'kmsKeyId' | 'bucketOwner'>,
  period: ExportPeriod,
): string {
  const hash = shortHash(
    [event.tableArn, event.bucket, normalizePrefix(event.prefix), event.kmsKeyId ?? '', event.bucketOwner ?? '', period.key],
    32,
  );
  return `export-${period.year}${period.month}-${hash}`;
}

// ---------------------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------------------

export interface ExportPeriod {
  readonly year: string;
  /** Two digits, 01–12. */
  readonly month: string;
  /** `yyyy-mm`. */
  readonly key: string;
}

/** The UTC month of `scheduledTime` (ISO-8601), or of now. */
export function exportPeriod(scheduledTime?: string, now: Date = new Date()): ExportPeriod {
  const date = scheduledTime === undefined ? now : new Date(scheduledTime);
  if (Number.isNaN(date.getTime())) {
    throw new Error(`Invalid event field "scheduledTime": ${JSON.stringify(scheduledTime)} is not an ISO-8601 date-time`);
  }
  const year = String(date.getUTCFullYear()).padStart(4, '0');
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  return { year, month, key: `${year}-${month}` };
}

/** `<prefix>/<yyyy>/<mm>/` (or `<yyyy>/<mm>/` when the prefix is empty). */
export function datedPrefix(prefix: string, period: ExportPeriod): string {
  const p = normalizePrefix(prefix);
  return `${p ? `${p}/` : ''}${period.year}/${period.month}/`;
}

function normalizePrefix(prefix: string): string {
  return prefix.replace(/^\/+/, '').replace(/\/+$/, '');
}

function shortHash(parts: string[], length: number): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, length);
}

function assertSameRegion(resourceRegion: string | undefined, field: string): void {
  const region = process.env.AWS_REGION;
  if (region && resourceRegion && resourceRegion !== region) {
    throw new Error(
      `Invalid event field "${field}": the resource is in ${resourceRegion} but this function runs in ${region}; ` +
      'exports must be started in the region of the source',
    );
  }
}

function errorName(e: unknown): string {
  const name = (e as { name?: unknown })?.name;
  return typeof name === 'string' && name !== '' ? name : 'UnknownError';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function awsError(operation: string, subject: string, e: unknown): Error {
  const name = errorName(e);
  let hint = '';
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'IamRoleMissingPermissionsFault') {
    hint = ' Check the IAM permissions of the function and of the export role.';
  } else if (name === 'KMSKeyNotAccessibleFault') {
    hint = ' The function needs kms:CreateGrant and kms:DescribeKey on the export key.';
  }
  return new Error(`${operation} failed for ${subject} (${name}): ${errorMessage(e)}.${hint}`, { cause: e });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('Invalid event: not a JSON object');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DYNAMODB_TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const ACCOUNT_ID = /^\d{12}$/;

/** Checks the event shape; errors name the offending field. */
export function validateEvent(event: unknown): ScheduledExportEvent {
  if (!event || typeof event !== 'object' || Array.isArray(event)) {
    throw new Error('Invalid event: expected a JSON object with a "kind" field');
  }
  const e = event as Record<string, unknown>;
  const kind = e.kind;
  if (kind !== RDS_SNAPSHOT_EXPORT && kind !== DYNAMODB_TABLE_EXPORT) {
    throw new Error(
      `Invalid event field "kind": ${JSON.stringify(kind)}; expected "${RDS_SNAPSHOT_EXPORT}" or "${DYNAMODB_TABLE_EXPORT}"`,
    );
  }
  const bucket = requiredString(e, 'bucket');
  if (!BUCKET_NAME.test(bucket)) {
    throw new Error(`Invalid event field "bucket": ${JSON.stringify(bucket)} is not an S3 bucket name`);
  }
  const prefix = stringField(e, 'prefix', true);
  const scheduledTime = optionalString(e, 'scheduledTime');
  if (scheduledTime !== undefined) exportPeriod(scheduledTime);

  if (kind === RDS_SNAPSHOT_EXPORT) {
    const sourceArn = requiredString(e, 'sourceArn');
    parseRdsArn(sourceArn);
    const kmsKeyId = requiredString(e, 'kmsKeyId');
    const exportRoleArn = requiredString(e, 'exportRoleArn');
    if (!IAM_ROLE_ARN.test(exportRoleArn)) {
      throw new Error(`Invalid event field "exportRoleArn": ${JSON.stringify(exportRoleArn)} is not an IAM role ARN`);
    }
    let exportOnly: string[] | undefined;
    if (e.exportOnly !== undefined) {
      if (!Array.isArray(e.exportOnly) || e.exportOnly.some((x) => typeof x !== 'string' || x.trim() === '')) {
        throw new Error('Invalid event field "exportOnly": expected an array of non-empty strings');
      }
      exportOnly = e.exportOnly as string[];
    }
    return {
      kind,
      sourceArn,
      bucket,
      prefix,
      kmsKeyId,
      exportRoleArn,
      ...(exportOnly ? { exportOnly } : {}),
      ...(scheduledTime !== undefined ? { scheduledTime } : {}),
    };
  }

  const tableArn = requiredString(e, 'tableArn');
  if (!DYNAMODB_TABLE_ARN.test(tableArn)) {
    throw new Error(`Invalid event field "tableArn": ${JSON.stringify(tableArn)} is not a DynamoDB table ARN`);
  }
  const kmsKeyId = optionalString(e, 'kmsKeyId');
  const bucketOwner = optionalString(e, 'bucketOwner');
  if (bucketOwner !== undefined && !ACCOUNT_ID.test(bucketOwner)) {
    throw new Error(`Invalid event field "bucketOwner": ${JSON.stringify(bucketOwner)} is not a 12-digit account id`);
  }
  return {
    kind,
    tableArn,
    bucket,
    prefix,
    ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
    ...(bucketOwner !== undefined ? { bucketOwner } : {}),
    ...(scheduledTime !== undefined ? { scheduledTime } : {}),
  };
}

function stringField(e: Record<string, unknown>, name: string, allowEmpty: boolean): string {
  const value = e[name];
  if (value === undefined || value === null) {
    throw new Error(`Invalid event: missing required field "${name}"`);
  }
  if (typeof value !== 'string' || (!allowEmpty && value.trim() === '')) {
    throw new Error(`Invalid event field "${name}": expected a ${allowEmpty ? '' : 'non-empty '}string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function requiredString(e: Record<string, unknown>, name: string): string {
  return stringField(e, name, false);
}

/** Optional string field: absent, null or "" mean "not set". */
function optionalString(e: Record<string, unknown>, name: string): string | undefined {
  const value = e[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new Error(`Invalid event field "${name}": expected a string, got ${JSON.stringify(value)}`);
  }
  return value;
}
