import { AssemblyContents, AssemblyStack, CatalogError, DR_SITE_METADATA } from './assembly';
import { IntrinsicResolver, Segment, displayText, literal } from './intrinsics';
import { CATALOG_METADATA_TYPE, CatalogResourceType } from '../core/catalog-metadata';

/** One row of the inventory, every cell a readable string. Column order is the policy's. */
export interface InventoryRow {
  readonly backupName: string;
  readonly content: string;
  readonly periodicity: string;
  readonly environment: string;
  readonly supportType: string;
  readonly location: string;
  readonly rpo: string;
  readonly rto: string;
  readonly retention: string;
  readonly drSite: string;
  readonly access: string;
}

/** Inventory columns: the policy's six, then the objectives, retention, DR site and access. */
export const INVENTORY_COLUMNS: ReadonlyArray<{ readonly key: keyof InventoryRow; readonly title: string }> = [
  { key: 'backupName', title: 'Backup name' },
  { key: 'content', title: 'Content' },
  { key: 'periodicity', title: 'Periodicity' },
  { key: 'environment', title: 'Environment' },
  { key: 'supportType', title: 'Type of backup support' },
  { key: 'location', title: 'Location' },
  { key: 'rpo', title: 'RPO' },
  { key: 'rto', title: 'RTO' },
  { key: 'retention', title: 'Retention' },
  { key: 'drSite', title: 'DR site' },
  { key: 'access', title: 'Access' },
];

/** A protected resource, resolved for the runbook (identifiers as segments: shell or display text). */
export interface RunbookResource {
  readonly type: CatalogResourceType;
  readonly identifier: Segment[];
  readonly arn?: Segment[];
  readonly bucketName?: Segment[];
  readonly keyPrefix: string;
  readonly engine?: string;
}

/** The DR site of an entry, resolved. */
export interface RunbookDrSite {
  readonly region: string;
  readonly account: string;
  readonly strategy?: string;
  readonly siteName?: string;
  readonly vaultName?: Segment[];
  readonly replicaBucketName?: Segment[];
}

/** Team access of an entry. */
export interface RunbookAccess {
  readonly team: string;
  readonly level: string;
  readonly principal?: string;
}

/** One catalog entry: its inventory row and what the runbook needs. */
export interface CatalogItem {
  readonly row: InventoryRow;
  readonly stack: AssemblyStack;
  readonly resources: RunbookResource[];
  readonly vaultName?: Segment[];
  readonly vaultArn?: Segment[];
  readonly backupRoleArn?: Segment[];
  readonly drSite?: RunbookDrSite;
  readonly access?: RunbookAccess[];
  readonly pointInTimeWindow?: string;
  /** The location, resolved (display text is the row's location). */
  readonly location: Segment[];
}

/** The catalog of one app: every entry of every stack, in stack then construct-tree order. */
export interface CatalogModel {
  readonly items: CatalogItem[];
}

interface RawEntry {
  readonly backupName?: unknown;
  readonly content?: unknown;
  readonly periodicity?: unknown;
  readonly environment?: unknown;
  readonly supportType?: unknown;
  readonly location?: unknown;
  readonly rpo?: unknown;
  readonly rto?: unknown;
  readonly resources?: Array<Record<string, unknown>>;
  readonly vaultName?: unknown;
  readonly backupRoleArn?: unknown;
  readonly retention?: { routine?: unknown; samples?: unknown[]; pointInTimeWindow?: unknown };
  readonly drSite?: Record<string, unknown>;
  readonly access?: Array<Record<string, unknown>>;
}

interface DrSiteReport {
  readonly strategy?: string;
  readonly workloads?: Array<{ path?: string }>;
}

const STRATEGY_LABELS: Record<string, string> = {
  BACKUP_AND_RESTORE: 'backup & restore',
  PILOT_LIGHT: 'pilot light',
  WARM_STANDBY: 'warm standby',
  MULTI_SITE: 'multi-site active/active',
};

/** Build the catalog of an assembly; an assembly without any entry is an error. */
export function buildCatalog(contents: AssemblyContents): CatalogModel {
  const resolver = new IntrinsicResolver(contents.stacks);
  const strategies = drStrategiesByPath(contents);
  const items: CatalogItem[] = [];
  for (const stack of contents.stacks) {
    for (const m of stack.metadata) {
      if (m.type !== CATALOG_METADATA_TYPE || typeof m.data !== 'object' || m.data === null) continue;
      items.push(itemOf(m.data as RawEntry, m.path, stack, resolver, strategies));
    }
  }
  if (items.length === 0) {
    const names = contents.stacks.map((s) => s.displayName).join(', ') || 'none';
    throw new CatalogError(
      `${contents.directory} has no backup construct: none of its stacks (${names}) records a "${CATALOG_METADATA_TYPE}" entry. ` +
      'Protect data with RdsBackupPolicy, DynamoPitrBackup, S3ArchiveLifecycle or ExternalDbBackupLambda, then synthesize again');
  }
  return { items };
}

function itemOf(entry: RawEntry, constructPath: string, stack: AssemblyStack, resolver: IntrinsicResolver,
  strategies: Map<string, string>): CatalogItem {
  const seg = (v: unknown) => resolver.resolve(v, stack);
  const text = (v: unknown, fallback = '—') => (v === undefined || v === null || v === '' ? fallback : displayText(seg(v)));
  const opt = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : seg(v));

  const resources: RunbookResource[] = (entry.resources ?? []).map((r) => ({
    type: String(r.type) as CatalogResourceType,
    identifier: seg(r.identifier),
    arn: opt(r.arn),
    bucketName: opt(r.bucketName) ?? (r.type === CatalogResourceType.S3_BUCKET ? seg(r.identifier) : undefined),
    keyPrefix: r.keyPrefix === undefined ? '' : displayText(seg(r.keyPrefix)),
    engine: r.engine === undefined ? undefined : displayText(seg(r.engine)),
  }));

  const backupName = text(entry.backupName, constructPath);
  const site = entry.drSite;
  const drSite: RunbookDrSite | undefined = site ? {
    region: text(site.region),
    account: text(site.account),
    strategy: site.strategy !== undefined ? text(site.strategy) : strategies.get(backupName) ?? strategies.get(constructPath),
    siteName: site.siteName === undefined ? undefined : text(site.siteName),
    vaultName: opt(site.vaultName),
    replicaBucketName: opt(site.replicaBucketName),
  } : undefined;
  const access = entry.access?.map((a) => ({
    team: text(a.team), level: text(a.level), principal: a.principal === undefined ? undefined : text(a.principal),
  }));
  const retention = entry.retention;
  const location = seg(entry.location);
  const vaultName = opt(entry.vaultName);

  return {
    row: {
      backupName,
      content: text(entry.content),
      periodicity: text(entry.periodicity),
      environment: text(entry.environment),
      supportType: text(entry.supportType),
      location: policyLocation(displayText(location)),
      rpo: text(entry.rpo),
      rto: text(entry.rto),
      retention: retention ? retentionText(retention, text) : '—',
      drSite: drSite ? drSiteText(drSite) : 'none',
      access: access && access.length > 0 ? access.map((a) => `${a.team}: ${a.level}`).join(', ') : '—',
    },
    stack,
    resources,
    vaultName,
    vaultArn: vaultName ? undefined : vaultArnOf(location),
    backupRoleArn: opt(entry.backupRoleArn),
    drSite,
    access,
    pointInTimeWindow: retention?.pointInTimeWindow === undefined ? undefined : text(retention.pointInTimeWindow),
    location,
  };
}

function retentionText(r: NonNullable<RawEntry['retention']>, text: (v: unknown) => string): string {
  const parts = [`routine: ${text(r.routine)}`, ...(r.samples ?? []).map((s) => text(s))];
  if (r.pointInTimeWindow !== undefined && !String(text(r.routine)).includes('point in time')) {
    parts.push(`point in time: ${text(r.pointInTimeWindow)}`);
  }
  return parts.join('; ');
}

function drSiteText(site: RunbookDrSite): string {
  const strategy = site.strategy ? STRATEGY_LABELS[site.strategy] ?? site.strategy : 'strategy not reported';
  return `${site.region} (account ${site.account}), ${strategy}`;
}

/** A location that is a vault ARN (the AWS Backup entries record the vault ARN as location). */
function vaultArnOf(location: Segment[]): Segment[] | undefined {
  const first = location[0];
  return typeof first === 'string' && /^arn:[^:]+:backup:/.test(first) ? location : undefined;
}

/**
 * The policy's location format for S3: https://s3.<region>.amazonaws.com/<bucket>/<prefix>. Virtual-hosted
 * URLs (https://<bucket>.s3.<region>.amazonaws.com/<prefix>) and s3:// URIs are rewritten to it.
 */
export function policyLocation(location: string): string {
  const virtualHosted = /^https:\/\/(.+)\.s3\.([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?)(\/.*)?$/.exec(location);
  if (virtualHosted) {
    const [, bucket, region, suffix, key] = virtualHosted;
    return `https://s3.${region}.${suffix}/${bucket}${key ?? '/'}`;
  }
  return location;
}

/** Strategy each workload path got from its DR site (read from the sites' metadata). */
function drStrategiesByPath(contents: AssemblyContents): Map<string, string> {
  const out = new Map<string, string>();
  for (const stack of contents.stacks) {
    for (const m of stack.metadata) {
      if (m.type !== DR_SITE_METADATA) continue;
      const report = m.data as DrSiteReport;
      for (const w of report?.workloads ?? []) {
        if (typeof w.path === 'string' && typeof report.strategy === 'string') out.set(w.path.replace(/^\//, ''), report.strategy);
      }
    }
  }
  return out;
}

/** Literal text of segments, for callers that need to know whether a value is known. */
export { literal };
