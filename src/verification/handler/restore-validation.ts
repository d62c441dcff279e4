/**
 * Restore test validation (bundled to assets/restore-validation/index.js). EventBridge invokes it when a
 * restore job of the stack's restore testing plan completes ("Restore Job State Change", status
 * COMPLETED). It checks that the restored resource works:
 *
 * - DynamoDB: DescribeTable is ACTIVE, and the items are counted (Scan with Select=COUNT, bounded);
 * - RDS instance / Aurora cluster: the status is `available`; a TCP connection to the endpoint is tried
 *   only when CONNECT_CHECK=tcp (the function must then run in the database's VPC; see docs/verification.md);
 * - S3: the objects of the restored bucket can be listed;
 *
 * reports the result with PutRestoreValidationResult, and publishes RestoreDurationSeconds (restore job
 * completion minus creation) and RestoreValidationSuccess with the dimension Policy (the source
 * resource's `cdk-backup-dr:policy` tag, or POLICY_BY_ARN for resources the app could not tag).
 * A failed validation makes the invocation fail (errors alarm) after the result is reported.
 */
import * as net from 'net';
import { BackupClient, DescribeRestoreJobCommand, DescribeRestoreJobCommandOutput, PutRestoreValidationResultCommand } from '@aws-sdk/client-backup';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { identifierOf, kindOf, log, MetricDatum, POLICY_TAG, putMetrics, RetryOptions, withRetry } from './common';

export interface RestoreJobEvent {
  readonly 'detail-type'?: string;
  readonly 'source'?: string;
  readonly 'detail': {
    readonly restoreJobId: string;
    readonly status?: string;
    readonly restoreTestingPlanArn?: string;
    readonly resourceType?: string;
    readonly createdResourceArn?: string;
  };
}

export interface ValidationResult {
  readonly restoreJobId: string;
  readonly status: 'SUCCESSFUL' | 'FAILED' | 'SKIPPED';
  readonly message: string;
  readonly policy?: string;
  readonly durationSeconds?: number;
}

export interface ValidationDeps {
  readonly backup?: BackupClient;
  readonly dynamodb?: DynamoDBClient;
  readonly rds?: RDSClient;
  readonly s3?: S3Client;
  readonly tagging?: ResourceGroupsTaggingAPIClient;
  readonly cloudwatch?: CloudWatchClient;
  readonly env?: NodeJS.ProcessEnv;
  readonly retry?: RetryOptions;
  /** TCP connection attempt (tests replace it). */
  readonly connect?: (host: string, port: number, timeoutMs: number) => Promise<void>;
}

/** At most this many Scan pages (1 MB each) are counted; larger tables report "at least N items". */
export const MAX_SCAN_PAGES = 20;
const SDK_RETRY = { maxAttempts: 5, retryMode: 'adaptive' as const };

class ValidationFailure extends Error {}

export async function validateRestore(event: RestoreJobEvent, deps: ValidationDeps = {}): Promise<ValidationResult> {
  const env = deps.env ?? process.env;
  const retry = deps.retry ?? {};
  const backup = deps.backup ?? new BackupClient(SDK_RETRY);
  const restoreJobId = event?.detail?.restoreJobId;
  if (!restoreJobId) throw new Error(`Not a restore job event (no detail.restoreJobId): ${JSON.stringify(event)}`);
  const plans = (env.RESTORE_TESTING_PLAN_ARNS ?? '').split(',').map((s) => s.trim()).filter(Boolean);

  const job: DescribeRestoreJobCommandOutput = await withRetry('backup:DescribeRestoreJob',
    () => backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId })), retry);
  const planArn = job.CreatedBy?.RestoreTestingPlanArn ?? event.detail.restoreTestingPlanArn;
  if (!planArn || (plans.length > 0 && !plans.includes(planArn))) {
    log('INFO', 'restore job of another restore testing plan (or a manual restore): not validated here', { restoreJobId, planArn });
    return { restoreJobId, status: 'SKIPPED', message: 'not a restore test of this stack' };
  }
  if (job.Status !== 'COMPLETED') {
    log('INFO', 'restore job not completed: nothing to validate', { restoreJobId, status: job.Status });
    return { restoreJobId, status: 'SKIPPED', message: `restore job status ${job.Status}` };
  }

  const created = job.CreatedResourceArn ?? event.detail.createdResourceArn ?? '';
  let status: 'SUCCESSFUL' | 'FAILED' = 'SUCCESSFUL';
  let message: string;
  try {
    message = await checkResource(created, deps, env, retry);
  } catch (err) {
    status = 'FAILED';
    message = err instanceof ValidationFailure ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
  }
  const durationSeconds = job.CreationDate && job.CompletionDate
    ? Math.max(0, Math.round((job.CompletionDate.getTime() - job.CreationDate.getTime()) / 1000))
    : undefined;
  if (durationSeconds !== undefined) message += ` (restore took ${durationSeconds} s)`;

  await withRetry('backup:PutRestoreValidationResult', () => backup.send(new PutRestoreValidationResultCommand({
    RestoreJobId: restoreJobId,
    ValidationStatus: status,
    ValidationStatusMessage: message.slice(0, 1000),
  })), retry);

  const policy = await policyOf(job.SourceResourceArn, deps, env, retry);
  const now = job.CompletionDate ?? new Date();
  const data: MetricDatum[] = [
    { name: 'RestoreValidationSuccess', value: status === 'SUCCESSFUL' ? 1 : 0, unit: 'Count', dimensions: { Policy: policy }, timestamp: now },
  ];
  if (durationSeconds !== undefined) {
    data.push({ name: 'RestoreDurationSeconds', value: durationSeconds, unit: 'Seconds', dimensions: { Policy: policy }, timestamp: now });
  }
  await putMetrics(deps.cloudwatch ?? new CloudWatchClient(SDK_RETRY), data, retry);

  const result: ValidationResult = { restoreJobId, status, message, policy, durationSeconds };
  log(status === 'SUCCESSFUL' ? 'INFO' : 'ERROR', 'restore test validated', { ...result, createdResourceArn: created, sourceResourceArn: job.SourceResourceArn });
  return result;
}

async function checkResource(arn: string, deps: ValidationDeps, env: NodeJS.ProcessEnv, retry: RetryOptions): Promise<string> {
  const id = identifierOf(arn);
  switch (kindOf(arn)) {
    case 'DYNAMODB_TABLE': {
      const dynamodb = deps.dynamodb ?? new DynamoDBClient(SDK_RETRY);
      const table = await withRetry('dynamodb:DescribeTable', () => dynamodb.send(new DescribeTableCommand({ TableName: id })), retry);
      const tableStatus = table.Table?.TableStatus;
      if (tableStatus !== 'ACTIVE') throw new ValidationFailure(`restored table ${id} is ${tableStatus ?? 'missing'}, not ACTIVE`);
      let count = 0;
      let pages = 0;
      let start: Record<string, any> | undefined;
      do {
        const out = await withRetry('dynamodb:Scan', () => dynamodb.send(new ScanCommand({ TableName: id, Select: 'COUNT', ExclusiveStartKey: start })), retry);
        count += out.Count ?? 0;
        start = out.LastEvaluatedKey;
        pages++;
      } while (start && pages < MAX_SCAN_PAGES);
      return `table ${id} is ACTIVE with ${start ? 'at least ' : ''}${count} items`;
    }
    case 'RDS_INSTANCE': {
      const rds = deps.rds ?? new RDSClient(SDK_RETRY);
      const out = await withRetry('rds:DescribeDBInstances', () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })), retry);
      const db = out.DBInstances?.[0];
      if (db?.DBInstanceStatus !== 'available') throw new ValidationFailure(`restored DB instance ${id} is ${db?.DBInstanceStatus ?? 'missing'}, not available`);
      return `DB instance ${id} is available` + await connectionCheck(db.Endpoint?.Address, db.Endpoint?.Port, deps, env);
    }
    case 'AURORA_CLUSTER': {
      const rds = deps.rds ?? new RDSClient(SDK_RETRY);
      const out = await withRetry('rds:DescribeDBClusters', () => rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id })), retry);
      const cluster = out.DBClusters?.[0];
      if (cluster?.Status !== 'available') throw new ValidationFailure(`restored DB cluster ${id} is ${cluster?.Status ?? 'missing'}, not available`);
      return `DB cluster ${id} is available` + await connectionCheck(cluster.Endpoint, cluster.Port, deps, env);
    }
    case 'S3_BUCKET': {
      const s3 = deps.s3 ?? new S3Client(SDK_RETRY);
      const out = await withRetry('s3:ListObjectsV2', () => s3.send(new ListObjectsV2Command({ Bucket: id, MaxKeys: 1000 })), retry);
      return `bucket ${id} lists ${out.IsTruncated ? 'more than ' : ''}${out.KeyCount ?? 0} objects`;
    }
    default:
      throw new ValidationFailure(`no validation for the restored resource ${arn || '(none reported)'}`);
  }
}

async function connectionCheck(host: string | undefined, port: number | undefined, deps: ValidationDeps, env: NodeJS.ProcessEnv): Promise<string> {
  if (env.CONNECT_CHECK !== 'tcp') return '; connection not checked (the validation function runs outside the VPC)';
  if (!host || !port) throw new ValidationFailure('the restored database reports no endpoint to connect to');
  const connect = deps.connect ?? tcpConnect;
  try {
    await connect(host, port, 5000);
  } catch (err) {
    throw new ValidationFailure(`cannot open a TCP connection to ${host}:${port}: ${(err as Error).message}`);
  }
  return `; TCP connection to ${host}:${port} opened`;
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`timed out after ${timeoutMs} ms`)); }, timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); socket.end(); resolve(); });
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

async function policyOf(source: string | undefined, deps: ValidationDeps, env: NodeJS.ProcessEnv, retry: RetryOptions): Promise<string> {
  if (!source) return 'Unassigned';
  try {
    const mapped = JSON.parse(env.POLICY_BY_ARN || '{}') as Record<string, string>;
    if (mapped[source]) return mapped[source];
  } catch {
    log('WARN', 'POLICY_BY_ARN is not JSON; ignored');
  }
  const tagging = deps.tagging ?? new ResourceGroupsTaggingAPIClient(SDK_RETRY);
  const out = await withRetry('tag:GetResources', () => tagging.send(new GetResourcesCommand({ ResourceARNList: [source] })), retry);
  const tag = out.ResourceTagMappingList?.[0]?.Tags?.find((t) => t.Key === POLICY_TAG);
  return tag?.Value ?? 'Unassigned';
}

/** Lambda entry point: a failed validation fails the invocation (errors alarm) once the result is recorded. */
export async function handler(event: RestoreJobEvent): Promise<ValidationResult> {
  const result = await validateRestore(event);
  if (result.status === 'FAILED') throw new Error(`Restore test ${result.restoreJobId} failed validation: ${result.message}`);
  return result;
}
