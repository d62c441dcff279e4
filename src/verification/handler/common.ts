/**
 * Shared plumbing of the verification handlers (bundled by esbuild; not part of the jsii API):
 * throttling-aware retries around every AWS call (the SDK's own retries are on too, but tests mock the
 * client boundary, so the policy lives here where it is tested), metric publishing and resource-type
 * detection from ARNs.
 */
import { CloudWatchClient, PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';

/** Namespace of every metric the verification publishes (the IAM condition `cloudwatch:namespace` pins it). */
export const METRICS_NAMESPACE = 'CdkBackupDr/Verification';
/** Tag that names a protected resource's policy (the metric dimension `Policy`). */
export const POLICY_TAG = 'cdk-backup-dr:policy';
/** Name prefix AWS Backup gives restore-test resources; they are never monitored. */
export const RESTORE_TEST_PREFIX = 'awsbackup-restore-test';

export type ResourceKind = 'DYNAMODB_TABLE' | 'RDS_INSTANCE' | 'AURORA_CLUSTER' | 'S3_BUCKET' | 'OTHER';

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const THROTTLING = new Set([
  'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'ProvisionedThroughputExceededException',
  'LimitExceededException', 'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'ServiceUnavailableException', 'ServiceUnavailable',
]);

/** Whether an SDK error is worth retrying (throttling, 5xx, transient network errors). */
export function isRetryable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e?.$retryable) return true;
  if (THROTTLING.has(e?.name ?? '') || THROTTLING.has(e?.code ?? '')) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  return ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED'].includes(e?.code ?? '');
}

export interface RetryOptions {
  /** Attempts in total (first call included). @default 6 */
  readonly attempts?: number;
  /** First back-off in ms; doubles each retry, full jitter, capped at 20 s. @default 200 */
  readonly baseDelayMs?: number;
  readonly sleep?: Sleep;
  /** Random source for the jitter (tests pass a constant). */
  readonly random?: () => number;
}

/** Calls `fn`, retrying throttling and transient errors with exponential back-off and full jitter. */
export async function withRetry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  const base = opts.baseDelayMs ?? 200;
  const sleep = opts.sleep ?? realSleep;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) {
        const e = err as Error;
        if (attempt > 1 && isRetryable(err)) {
          e.message = `${what}: still throttled or failing after ${attempt} attempts: ${e.message}`;
        }
        throw err;
      }
      const cap = Math.min(20_000, base * 2 ** (attempt - 1));
      await sleep(Math.max(1, Math.floor(random() * cap)));
    }
  }
}

/** Every page of a paginated call: `call(token)` returns the items and the next token. */
export async function allPages<T>(
  what: string,
  call: (token: string | undefined) => Promise<{ items: T[] | undefined; next: string | undefined }>,
  opts: RetryOptions = {},
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await withRetry(what, () => call(token), opts);
    out.push(...(page.items ?? []));
    token = page.next || undefined;
    if (token !== undefined) {
      if (seen.has(token)) throw new Error(`${what}: the service returned the same pagination token twice (${token})`);
      seen.add(token);
    }
  } while (token !== undefined);
  return out;
}

/** Resource kind from an ARN (DynamoDB table, RDS instance, Aurora/RDS cluster, S3 bucket). */
export function kindOf(arn: string): ResourceKind {
  const parts = arn.split(':');
  const service = parts[2];
  if (service === 'dynamodb' && (parts[5] ?? '').startsWith('table/')) return 'DYNAMODB_TABLE';
  if (service === 'rds' && parts[5] === 'db') return 'RDS_INSTANCE';
  if (service === 'rds' && parts[5] === 'cluster') return 'AURORA_CLUSTER';
  if (service === 's3' && parts[3] === '' && parts[4] === '') return 'S3_BUCKET';
  return 'OTHER';
}

/** The identifier in an ARN: table name, DB instance or cluster identifier, bucket name. */
export function identifierOf(arn: string): string {
  const parts = arn.split(':');
  switch (kindOf(arn)) {
    case 'DYNAMODB_TABLE': return parts[5].slice('table/'.length).split('/')[0];
    case 'RDS_INSTANCE':
    case 'AURORA_CLUSTER': return parts[6] ?? '';
    case 'S3_BUCKET': return parts[5];
    default: return parts.slice(5).join(':');
  }
}

export interface MetricDatum {
  readonly name: string;
  readonly value: number;
  readonly unit: StandardUnit;
  readonly dimensions: Record<string, string>;
  readonly timestamp: Date;
}

/** PutMetricData in batches (at most 500 data points per call), each batch retried. */
export async function putMetrics(cw: CloudWatchClient, data: MetricDatum[], opts: RetryOptions = {}): Promise<number> {
  let calls = 0;
  for (let i = 0; i < data.length; i += 500) {
    const batch = data.slice(i, i + 500);
    await withRetry('cloudwatch:PutMetricData', () => cw.send(new PutMetricDataCommand({
      Namespace: METRICS_NAMESPACE,
      MetricData: batch.map((d) => ({
        MetricName: d.name,
        Value: d.value,
        Unit: d.unit,
        Timestamp: d.timestamp,
        Dimensions: Object.entries(d.dimensions).map(([Name, Value]) => ({ Name, Value })),
      })),
    })), opts);
    calls++;
  }
  return calls;
}

/** One JSON log line. */
export function log(level: 'INFO' | 'WARN' | 'ERROR', msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'ERROR') console.error(line);
  else console.log(line);
}
