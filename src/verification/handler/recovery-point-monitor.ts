/**
 * Recovery-point age monitor (bundled to assets/recovery-point-monitor/index.js): one scheduled run per
 * policy. It finds the policy's resources (tagged `cdk-backup-dr:policy=<policy>`, plus explicit ARNs of
 * resources the app could not tag), reads their newest recovery point from AWS Backup
 * (`ListProtectedResources`, `ListRecoveryPointsByResource`, every page) and, for resources protected by
 * native point-in-time recovery or continuous backup, their latest restorable time (DynamoDB
 * `DescribeContinuousBackups`, RDS `DescribeDBInstances` / `DescribeDBClusters`). It publishes
 * `RecoveryPointAgeSeconds` per resource (dimensions Policy, Resource) and per policy (the oldest of
 * them; dimension Policy). When a resource has no recovery point at all, or the policy has no resource,
 * the policy's data point is left out: the alarm treats missing data as breaching.
 */
import {
  BackupClient, ListProtectedResourcesCommand, ListRecoveryPointsByResourceCommand, ProtectedResource, RecoveryPointByResource,
} from '@aws-sdk/client-backup';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeContinuousBackupsCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient, ResourceTagMapping } from '@aws-sdk/client-resource-groups-tagging-api';
import {
  allPages, identifierOf, kindOf, log, MetricDatum, POLICY_TAG, putMetrics, ResourceKind, RESTORE_TEST_PREFIX, RetryOptions, withRetry,
} from './common';

export interface MonitorEvent {
  /** Policy name (the `Policy` dimension and the tag value). */
  readonly policy: string;
  /** The policy's RPO, for the log lines (the alarm holds the threshold). */
  readonly rpoSeconds?: number;
  /** Kinds whose latest restorable time (PITR / continuous backup) counts as a recovery point. */
  readonly nativeKinds?: ResourceKind[];
  /** Explicit ARNs (resources that are not defined in the app and so carry no policy tag). */
  readonly resources?: string[];
  readonly scheduledTime?: string;
}

export interface ResourceAge {
  readonly arn: string;
  readonly kind: ResourceKind;
  /** Newest completed recovery point in AWS Backup. */
  readonly latestRecoveryPoint?: string;
  /** Latest restorable time of native PITR / continuous backup. */
  readonly latestRestorableTime?: string;
  /** Age of the newest of both, in seconds; undefined when there is none. */
  readonly ageSeconds?: number;
  readonly problem?: string;
}

export interface MonitorResult {
  readonly policy: string;
  readonly resources: ResourceAge[];
  /** The policy's age (oldest resource); undefined when a resource has no recovery point or there is no resource. */
  readonly policyAgeSeconds?: number;
  readonly metricsPublished: number;
}

export interface MonitorDeps {
  readonly backup?: BackupClient;
  readonly tagging?: ResourceGroupsTaggingAPIClient;
  readonly dynamodb?: DynamoDBClient;
  readonly rds?: RDSClient;
  readonly cloudwatch?: CloudWatchClient;
  /** Current time (tests pin it). */
  readonly now?: () => Date;
  readonly retry?: RetryOptions;
  /** Resources checked at the same time. @default 8 */
  readonly concurrency?: number;
}

const SDK_RETRY = { maxAttempts: 5, retryMode: 'adaptive' as const };
const USABLE_STATUSES = new Set(['COMPLETED', 'AVAILABLE']);

export async function monitor(event: MonitorEvent, deps: MonitorDeps = {}): Promise<MonitorResult> {
  if (!event || typeof event.policy !== 'string' || event.policy.length === 0) {
    throw new Error(`The monitor event has no policy: ${JSON.stringify(event)}`);
  }
  const backup = deps.backup ?? new BackupClient(SDK_RETRY);
  const tagging = deps.tagging ?? new ResourceGroupsTaggingAPIClient(SDK_RETRY);
  const dynamodb = deps.dynamodb ?? new DynamoDBClient(SDK_RETRY);
  const rds = deps.rds ?? new RDSClient(SDK_RETRY);
  const cloudwatch = deps.cloudwatch ?? new CloudWatchClient(SDK_RETRY);
  const now = (deps.now ?? (() => new Date()))();
  const retry = deps.retry ?? {};
  const native = new Set(event.nativeKinds ?? []);

  // 1. The policy's resources: tagged ones, plus explicit ARNs; never AWS Backup's restore-test copies.
  const tagged = await allPages<ResourceTagMapping>('tag:GetResources', async (token) => {
    const out = await tagging.send(new GetResourcesCommand({
      TagFilters: [{ Key: POLICY_TAG, Values: [event.policy] }],
      ResourcesPerPage: 100,
      PaginationToken: token,
    }));
    return { items: out.ResourceTagMappingList, next: out.PaginationToken };
  }, retry);
  const arns = [...new Set([...(event.resources ?? []), ...tagged.map((t) => t.ResourceARN!).filter(Boolean)])]
    .filter((arn) => !identifierOf(arn).startsWith(RESTORE_TEST_PREFIX))
    .sort();

  // 2. What AWS Backup protects in this account and Region (one listing, every page).
  const protectedResources = await allPages<ProtectedResource>('backup:ListProtectedResources', async (token) => {
    const out = await backup.send(new ListProtectedResourcesCommand({ NextToken: token, MaxResults: 1000 }));
    return { items: out.Results, next: out.NextToken };
  }, retry);
  const protectedArns = new Set(protectedResources.map((p) => p.ResourceArn));
  const lastBackup = new Map(protectedResources.map((p) => [p.ResourceArn, p.LastBackupTime]));

  // 3. Newest recovery point and latest restorable time of each resource.
  const ages = await mapLimit(arns, deps.concurrency ?? 8, async (arn): Promise<ResourceAge> => {
    const kind = kindOf(arn);
    let latestRp: Date | undefined;
    let latestRestorable: Date | undefined;
    const problems: string[] = [];
    if (protectedArns.has(arn)) {
      const points = await allPages<RecoveryPointByResource>(`backup:ListRecoveryPointsByResource ${arn}`, async (token) => {
        const out = await backup.send(new ListRecoveryPointsByResourceCommand({ ResourceArn: arn, NextToken: token, MaxResults: 100 }));
        return { items: out.RecoveryPoints, next: out.NextToken };
      }, retry);
      for (const p of points) {
        if (!p.CreationDate || !USABLE_STATUSES.has(p.Status ?? '')) continue;
        if (!latestRp || p.CreationDate > latestRp) latestRp = p.CreationDate;
      }
    } else {
      problems.push('not protected by AWS Backup (no backup selection covers it)');
    }
    if (native.has(kind)) {
      try {
        // S3 has no restorable-time API: for S3 continuous backup, AWS Backup's last backup time of the resource stands in.
        latestRestorable = kind === 'S3_BUCKET' ? lastBackup.get(arn) : await latestRestorableTime(arn, kind, dynamodb, rds, retry);
        if (!latestRestorable) problems.push('point-in-time recovery reports no latest restorable time (disabled?)');
      } catch (err) {
        problems.push(`latest restorable time unavailable: ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    const latest = [latestRp, latestRestorable].filter((d): d is Date => d !== undefined).sort((a, b) => b.getTime() - a.getTime())[0];
    if (!latest) problems.push('no recovery point');
    return {
      arn,
      kind,
      latestRecoveryPoint: latestRp?.toISOString(),
      latestRestorableTime: latestRestorable?.toISOString(),
      // A clock slightly behind the service's must not produce a negative age.
      ageSeconds: latest ? Math.max(0, Math.round((now.getTime() - latest.getTime()) / 1000)) : undefined,
      problem: latest ? undefined : problems.join('; '),
    };
  });

  // 4. Metrics.
  const data: MetricDatum[] = [];
  for (const a of ages) {
    if (a.ageSeconds === undefined) continue;
    data.push({ name: 'RecoveryPointAgeSeconds', value: a.ageSeconds, unit: 'Seconds', dimensions: { Policy: event.policy, Resource: a.arn }, timestamp: now });
  }
  const missing = ages.filter((a) => a.ageSeconds === undefined);
  let policyAge: number | undefined;
  if (ages.length > 0 && missing.length === 0) {
    policyAge = Math.max(...ages.map((a) => a.ageSeconds!));
    data.push({ name: 'RecoveryPointAgeSeconds', value: policyAge, unit: 'Seconds', dimensions: { Policy: event.policy }, timestamp: now });
  }
  data.push({ name: 'ResourcesWithoutRecoveryPoint', value: missing.length, unit: 'Count', dimensions: { Policy: event.policy }, timestamp: now });
  await putMetrics(cloudwatch, data, retry);

  if (ages.length === 0) {
    log('ERROR', 'no resource of this policy was found: no tagged resource and no explicit ARN; the age alarm will fire (missing data)', { policy: event.policy });
  }
  for (const a of missing) log('ERROR', 'resource without a recovery point', { policy: event.policy, resource: a.arn, problem: a.problem });
  for (const a of ages.filter((x) => x.ageSeconds !== undefined && event.rpoSeconds !== undefined && x.ageSeconds > event.rpoSeconds)) {
    log('WARN', 'recovery point older than the RPO', { policy: event.policy, resource: a.arn, ageSeconds: a.ageSeconds, rpoSeconds: event.rpoSeconds });
  }
  log('INFO', 'monitor run', { policy: event.policy, resources: ages.length, withoutRecoveryPoint: missing.length, policyAgeSeconds: policyAge });
  return { policy: event.policy, resources: ages, policyAgeSeconds: policyAge, metricsPublished: data.length };
}

async function latestRestorableTime(
  arn: string, kind: ResourceKind, dynamodb: DynamoDBClient, rds: RDSClient, retry: RetryOptions,
): Promise<Date | undefined> {
  switch (kind) {
    case 'DYNAMODB_TABLE': {
      const out = await withRetry('dynamodb:DescribeContinuousBackups', () => dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: arn })), retry);
      const pitr = out.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
      return pitr?.PointInTimeRecoveryStatus === 'ENABLED' ? pitr.LatestRestorableDateTime : undefined;
    }
    case 'RDS_INSTANCE': {
      const out = await withRetry('rds:DescribeDBInstances', () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: arn })), retry);
      return out.DBInstances?.[0]?.LatestRestorableTime;
    }
    case 'AURORA_CLUSTER': {
      const out = await withRetry('rds:DescribeDBClusters', () => rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: arn })), retry);
      return out.DBClusters?.[0]?.LatestRestorableTime;
    }
    default:
      return undefined;
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

/** Lambda entry point. Throws (errors alarm) only when the run itself fails, not for old recovery points (the age alarm). */
export async function handler(event: MonitorEvent): Promise<MonitorResult> {
  return monitor(event);
}
