import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import { checkKeyPrefix } from '../core/key-prefix';
import { ScheduleExpression } from '../core/schedule-expression';
import { BackupDrConfigError } from '../core/validation';

/**
 * The backup policy's "updated sample of data for each month/year", as a scheduled export of every
 * protected source to S3 by a Lambda function: RDS exports the latest automated snapshot
 * (`StartExportTask`, Parquet), DynamoDB exports the table (`ExportTableToPointInTime`, DynamoDB JSON).
 * One export per source and month: more frequent runs export nothing new.
 */
export interface SampleExportOptions {
  /** Bucket that receives the exports. */
  readonly bucket: s3.IBucket;
  /**
   * Key prefix (ends with "/"); each source exports under `<prefix><source name>/`.
   * @default - 'rds-samples/' (RdsBackupPolicy), 'dynamodb-samples/' (DynamoPitrBackup)
   */
  readonly prefix?: string;
  /**
   * When to export (EventBridge Scheduler `cron(...)` or `rate(...)` expression).
   * @default - monthly, on the 1st at 06:00 UTC, within a flexible window (4 hours for RDS, 1 hour for DynamoDB)
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /**
   * Customer-managed key of the exported data. RDS requires one (StartExportTask); DynamoDB uses it for SSE-KMS.
   * @default - RDS: a new key with automatic rotation, retained on deletion; DynamoDB: the bucket's key, else SSE-S3
   */
  readonly kmsKey?: kms.IKey;
  /**
   * Topic notified when an export fails (function errors or dead letters).
   * @default - the vault's notification topic
   */
  readonly alarmTopic?: sns.ITopic;
}

/** @internal The export prefix (one rule for every prefix) and a readable schedule, checked at synth. */
export function checkSampleExport(options: SampleExportOptions, defaultPrefix: string): string {
  if (!options.bucket) {
    throw new BackupDrConfigError('sampleExport.bucket is required; pass the s3.IBucket that receives the exports (e.g. an S3ArchiveLifecycle\'s bucket)');
  }
  const expression = options.schedule?.expressionString;
  if (expression !== undefined && !expression.startsWith('at(')) {
    try {
      ScheduleExpression.parse(expression);
    } catch (e) {
      throw new BackupDrConfigError(`sampleExport.schedule: ${(e as Error).message}`);
    }
  }
  const prefix = options.prefix ?? defaultPrefix;
  checkKeyPrefix(prefix, 'sampleExport.prefix');
  return prefix;
}
