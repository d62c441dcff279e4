import { CfnOutput, CfnResource, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { CATALOG_METADATA_TYPE, CatalogEntry } from '../../core/catalog-metadata';
import { DeploymentEnvironment, ENVIRONMENT_TAG_KEY } from '../../core/environment';

/** CloudFormation types holding data that must be backed up. */
export const STATEFUL_RESOURCE_TYPES = [
  'AWS::RDS::DBInstance', 'AWS::RDS::DBCluster', 'AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable',
  'AWS::S3::Bucket', 'AWS::EFS::FileSystem',
];

/** Plan tag carrying the environment of a plan (read by the pack; any plan may carry it). */
export const ENVIRONMENT_TAG = ENVIRONMENT_TAG_KEY;
/** Plan tag carrying the declared RPO of a plan in minutes (read by the pack; any plan may carry it). */
export const RPO_MINUTES_TAG = 'cdk-backup-dr:rpo-minutes';
/** Tag keys (case-insensitive) read as the environment of a resource, plan or vault. */
const ENVIRONMENT_KEYS = [ENVIRONMENT_TAG, 'environment', 'env', 'stage'];
/** Construct id of the library's per-stack plan registry (read from the tree; nag/ imports no construct). */
const PLAN_REGISTRY_ID = 'BackupDrPlanRegistry';
/** Worst case of an AWS Backup continuous-backup rule (the derivation's minimumContinuousRpo default). */
export const CONTINUOUS_RPO_MINUTES = 5;
/** StartWindowMinutes when a rule does not set it (AWS Backup's default: 8 hours). */
export const DEFAULT_START_WINDOW_MINUTES = 480;

const UNKNOWN = '\u0000';
const ORDER = [DeploymentEnvironment.DEV, DeploymentEnvironment.QA, DeploymentEnvironment.PRO];

/** @internal A rule of an AWS::Backup::BackupPlan, as rendered. */
export interface PlanRuleView {
  readonly ruleName: string;
  readonly scheduleExpression?: string;
  readonly startWindowMinutes?: number;
  readonly deleteAfterDays?: number;
  readonly continuous: boolean;
  readonly copyActions: number;
}

interface SelectionView {
  readonly cfn: CfnResource;
  readonly planKeys: Set<string>;
  readonly resourceRefs: Set<string>;
  readonly resourcePatterns: string[];
  readonly notResourceRefs: Set<string>;
  readonly notResourcePatterns: string[];
  readonly listOfTags: Array<{ key: string; value: string }>;
  readonly conditions: Array<{ op: string; key: string; value: string }>;
}

interface ResourceView {
  readonly cfn: CfnResource;
  readonly key: string;
  readonly type: string;
  readonly props: any;
  readonly tags: Record<string, string>;
  readonly arn: string;
}

/**
 * @internal What the BackupDrChecks rules need to know about the whole app: stateful resources with their
 * rendered properties and tags, AWS Backup selections, plans and vaults, and the inventory rows the
 * library's constructs record as metadata. Built once per validation from the construct tree and the
 * rendered (resolved) CloudFormation, so escape-hatch overrides are seen as deployed.
 */
export class BackupDrModel {
  /** The model of the app that contains `node` (built on first use, reused until `reset`). */
  public static of(node: IConstruct): BackupDrModel {
    const root = node.node.root;
    let model = MODELS.get(root);
    if (!model) {
      model = new BackupDrModel(root);
      MODELS.set(root, model);
    }
    return model;
  }

  /** Forget the model of the app that contains `node` (the pack calls it before and after a validation). */
  public static reset(node: IConstruct): void {
    MODELS.delete(node.node.root);
  }

  private readonly resources = new Map<string, ResourceView>();
  private readonly selections: SelectionView[] = [];
  private readonly exports = new Map<string, { stack: Stack; value: unknown }>();
  private readonly catalogCovered = new Map<string, string>();
  private readonly catalogEnvironments = new Map<string, DeploymentEnvironment[]>();
  private readonly plans = new Map<string, CfnResource>();
  private readonly vaults = new Map<string, CfnResource>();
  private readonly rendered = new Map<CfnResource, any>();

  private constructor(root: IConstruct) {
    const all = root.node.findAll();
    for (const c of all) {
      if (c instanceof CfnOutput && c.exportName) {
        const stack = Stack.of(c);
        const name = stack.resolve(c.exportName);
        if (typeof name === 'string') this.exports.set(name, { stack, value: stack.resolve(c.value) });
      }
    }
    for (const c of all) {
      if (!CfnResource.isCfnResource(c)) continue;
      const type = c.cfnResourceType;
      if (STATEFUL_RESOURCE_TYPES.includes(type)) {
        const props = this.propertiesOf(c);
        const key = this.keyOf(c);
        this.resources.set(key, { cfn: c, key, type, props, tags: tagsOf(type, props), arn: arnOf(c, type, props) });
      } else if (type === 'AWS::Backup::BackupPlan') {
        this.plans.set(this.keyOf(c), c);
      } else if (type === 'AWS::Backup::BackupVault') {
        this.vaults.set(this.keyOf(c), c);
      } else if (type === 'AWS::Backup::BackupSelection') {
        this.selections.push(this.selectionOf(c));
      }
    }
    for (const c of all) {
      const entries = c.node.metadata.filter((m) => m.type === CATALOG_METADATA_TYPE).map((m) => m.data as CatalogEntry);
      if (entries.length === 0) continue;
      const stack = Stack.of(c);
      const covered = new Set<string>();
      for (const child of c.node.findAll()) if (CfnResource.isCfnResource(child)) covered.add(this.keyOf(child));
      for (const entry of entries) {
        const env = parseEnvironment(entry.environment);
        const pointers = [entry.location, entry.vaultName, ...(entry.resources ?? []).map((r) => [r.arn, r.bucketName])];
        for (const key of this.refsIn(stack, stack.resolve(pointers))) {
          covered.add(key);
          if (env) this.catalogEnvironments.set(key, [...(this.catalogEnvironments.get(key) ?? []), env]);
        }
        if (env) {
          for (const key of covered) this.catalogEnvironments.set(key, [...(this.catalogEnvironments.get(key) ?? []), env]);
        }
      }
      for (const key of covered) if (!this.catalogCovered.has(key)) this.catalogCovered.set(key, c.node.path);
    }
  }

  /** Rendered, resolved `Properties` of a resource (overrides included). */
  public propertiesOf(cfn: CfnResource): any {
    let props = this.rendered.get(cfn);
    if (props === undefined) {
      const stack = Stack.of(cfn);
      try {
        const template = stack.resolve((cfn as any)._toCloudFormation());
        props = Object.values<any>(template.Resources ?? {})[0]?.Properties ?? {};
      } catch {
        props = stack.resolve((cfn as any).cfnProperties) ?? {};
      }
      this.rendered.set(cfn, props);
    }
    return props;
  }

  /** Selections (construct paths) that cover a stateful resource. */
  public selectionsCovering(cfn: CfnResource): string[] {
    const r = this.resources.get(this.keyOf(cfn));
    if (!r) return [];
    return this.selections.filter((s) => selects(s, r)).map((s) => s.cfn.node.path);
  }

  /** Path of the cdk-backup-dr construct whose inventory row covers the resource, if any. */
  public catalogCoverage(cfn: CfnResource): string | undefined {
    return this.catalogCovered.get(this.keyOf(cfn));
  }

  /** Environment of a stateful resource: its tags, else the inventory rows that cover it. */
  public resourceEnvironment(cfn: CfnResource): DeploymentEnvironment | undefined {
    const r = this.resources.get(this.keyOf(cfn));
    return (r && environmentOfTags(r.tags)) ?? strictest(this.catalogEnvironments.get(this.keyOf(cfn)) ?? []);
  }

  /**
   * Whether every stateful resource the plan's selections cover keeps native point-in-time recovery (DynamoDB PITR,
   * RDS automated backups), which meets RPOs of minutes whatever the plan's schedule; false when it covers none.
   */
  public planResourcesHaveNativePitr(plan: CfnResource): boolean {
    const planKey = this.keyOf(plan);
    const covered = [...this.resources.values()].filter((r) =>
      this.selections.some((s) => s.planKeys.has(planKey) && selects(s, r)));
    return covered.length > 0 && covered.every((r) => nativePitr(r));
  }

  /** Rules of a plan, as rendered. */
  public planRules(plan: CfnResource): PlanRuleView[] {
    const rules: any[] = this.propertiesOf(plan).BackupPlan?.BackupPlanRule ?? [];
    return rules.map((r) => ({
      ruleName: String(r.RuleName),
      scheduleExpression: typeof r.ScheduleExpression === 'string' ? r.ScheduleExpression : undefined,
      startWindowMinutes: typeof r.StartWindowMinutes === 'number' ? r.StartWindowMinutes : undefined,
      deleteAfterDays: typeof r.Lifecycle?.DeleteAfterDays === 'number' ? r.Lifecycle.DeleteAfterDays : undefined,
      continuous: r.EnableContinuousBackup === true || r.EnableContinuousBackup === 'true',
      copyActions: Array.isArray(r.CopyActions) ? r.CopyActions.length : 0,
    }));
  }

  /** Tags of a plan (`BackupPlanTags`). */
  public planTags(plan: CfnResource): Record<string, string> {
    return stringMap(this.propertiesOf(plan).BackupPlanTags);
  }

  /** Whether the plan was created by the library's plan registry (its rules come from the derivation). */
  public isLibraryPlan(plan: CfnResource): boolean {
    return plan.node.scopes.some((s) => s.node.id === PLAN_REGISTRY_ID);
  }

  /**
   * Environment of a plan: its `cdk-backup-dr:environment` (or `environment`) tag; otherwise the strictest of
   * its vaults' environments and of the resources its selections cover.
   */
  public planEnvironment(plan: CfnResource): DeploymentEnvironment | undefined {
    const tagged = environmentOfTags(this.planTags(plan));
    if (tagged) return tagged;
    const planKey = this.keyOf(plan);
    const envs: DeploymentEnvironment[] = [];
    for (const v of this.vaultKeysOf(plan)) {
      const vault = this.vaults.get(v);
      const env = vault && this.directVaultEnvironment(vault);
      if (env) envs.push(env);
    }
    for (const s of this.selections.filter((sel) => sel.planKeys.has(planKey))) {
      for (const r of this.resources.values()) {
        if (!selects(s, r)) continue;
        const env = this.resourceEnvironment(r.cfn);
        if (env) envs.push(env);
      }
    }
    return strictest(envs);
  }

  /**
   * Environment of a vault: its tags or the inventory rows that point at it; otherwise the strictest
   * environment of the plans that store recovery points in it.
   */
  public vaultEnvironment(vault: CfnResource): DeploymentEnvironment | undefined {
    const direct = this.directVaultEnvironment(vault);
    if (direct) return direct;
    const key = this.keyOf(vault);
    return strictest([...this.plans.values()]
      .filter((p) => this.vaultKeysOf(p).has(key))
      .map((p) => this.planEnvironment(p))
      .filter((e): e is DeploymentEnvironment => e !== undefined));
  }

  private directVaultEnvironment(vault: CfnResource): DeploymentEnvironment | undefined {
    return environmentOfTags(stringMap(this.propertiesOf(vault).BackupVaultTags))
      ?? strictest(this.catalogEnvironments.get(this.keyOf(vault)) ?? []);
  }

  private vaultKeysOf(plan: CfnResource): Set<string> {
    const rules: any[] = this.propertiesOf(plan).BackupPlan?.BackupPlanRule ?? [];
    const keys = new Set<string>();
    for (const r of rules) for (const k of this.refsIn(Stack.of(plan), r.TargetBackupVault)) keys.add(k);
    return keys;
  }

  private selectionOf(cfn: CfnResource): SelectionView {
    const stack = Stack.of(cfn);
    const props = this.propertiesOf(cfn);
    const sel = props.BackupSelection ?? {};
    const refs = new Set<string>(); const patterns: string[] = [];
    const notRefs = new Set<string>(); const notPatterns: string[] = [];
    for (const r of asArray(sel.Resources)) {
      for (const k of this.refsIn(stack, r)) refs.add(k);
      patterns.push(flatten(r));
    }
    for (const r of asArray(sel.NotResources)) {
      for (const k of this.refsIn(stack, r)) notRefs.add(k);
      notPatterns.push(flatten(r));
    }
    const listOfTags = asArray(sel.ListOfTags)
      .filter((t: any) => String(t.ConditionType).toUpperCase() === 'STRINGEQUALS' && typeof t.ConditionKey === 'string')
      .map((t: any) => ({ key: tagKey(t.ConditionKey), value: String(t.ConditionValue) }));
    const conditions: SelectionView['conditions'] = [];
    for (const [op, list] of Object.entries<any>(sel.Conditions ?? {})) {
      for (const c of asArray(list)) {
        if (typeof c.ConditionKey === 'string') conditions.push({ op, key: tagKey(c.ConditionKey), value: String(c.ConditionValue) });
      }
    }
    return {
      cfn,
      planKeys: this.refsIn(stack, props.BackupPlanId),
      resourceRefs: refs,
      resourcePatterns: patterns,
      notResourceRefs: notRefs,
      notResourcePatterns: notPatterns,
      listOfTags,
      conditions,
    };
  }

  /** Keys of the resources an intrinsic refers to (Ref, Fn::GetAtt, Fn::Sub, and Fn::ImportValue of another stack). */
  private refsIn(stack: Stack, value: unknown, out = new Set<string>(), depth = 0): Set<string> {
    if (depth > 20 || value === null || typeof value !== 'object') return out;
    if (Array.isArray(value)) {
      for (const v of value) this.refsIn(stack, v, out, depth + 1);
      return out;
    }
    const o = value as Record<string, any>;
    if (typeof o.Ref === 'string' && !o.Ref.startsWith('AWS::')) out.add(`${stack.node.path}|${o.Ref}`);
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') out.add(`${stack.node.path}|${getAtt[0]}`);
    if (typeof getAtt === 'string') out.add(`${stack.node.path}|${getAtt.split('.')[0]}`);
    const sub = o['Fn::Sub'];
    const subText = typeof sub === 'string' ? sub : Array.isArray(sub) ? sub[0] : undefined;
    if (typeof subText === 'string') {
      for (const m of subText.matchAll(/\$\{([^}!.]+)(\.[^}]*)?\}/g)) {
        if (!m[1].startsWith('AWS::')) out.add(`${stack.node.path}|${m[1]}`);
      }
    }
    const imported = o['Fn::ImportValue'];
    if (typeof imported === 'string') {
      const exp = this.exports.get(imported);
      if (exp) this.refsIn(exp.stack, exp.value, out, depth + 1);
    }
    for (const v of Object.values(o)) this.refsIn(stack, v, out, depth + 1);
    return out;
  }

  private keyOf(cfn: CfnResource): string {
    const stack = Stack.of(cfn);
    return `${stack.node.path}|${stack.resolve(cfn.logicalId)}`;
  }
}

const MODELS = new WeakMap<IConstruct, BackupDrModel>();

function nativePitr(r: ResourceView): boolean {
  const on = (spec: any) => spec?.PointInTimeRecoveryEnabled === true || spec?.PointInTimeRecoveryEnabled === 'true';
  switch (r.type) {
    case 'AWS::DynamoDB::Table': return on(r.props.PointInTimeRecoverySpecification);
    case 'AWS::DynamoDB::GlobalTable': return (r.props.Replicas ?? []).every((x: any) => on(x.PointInTimeRecoverySpecification));
    case 'AWS::RDS::DBInstance':
    case 'AWS::RDS::DBCluster': return r.props.BackupRetentionPeriod === undefined || Number(r.props.BackupRetentionPeriod) > 0;
    default: return false;
  }
}

function selects(s: SelectionView, r: ResourceView): boolean {
  const byArn = s.resourceRefs.has(r.key) || s.resourcePatterns.some((p) => glob(p, r.arn));
  const byTag = s.listOfTags.some((t) => r.tags[t.key] === t.value);
  if (!byArn && !byTag) return false;
  if (s.notResourceRefs.has(r.key) || s.notResourcePatterns.some((p) => glob(p, r.arn))) return false;
  return s.conditions.every((c) => {
    const v = r.tags[c.key];
    switch (c.op) {
      case 'StringEquals': return v === c.value;
      case 'StringNotEquals': return v !== c.value;
      case 'StringLike': return v !== undefined && glob(c.value, v);
      case 'StringNotLike': return v === undefined || !glob(c.value, v);
      default: return false;
    }
  });
}

/** AWS Backup wildcard match: `*` matches any run of characters; nothing else is special. */
function glob(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*')}$`);
  return re.test(value);
}

/** A resolved value as an ARN pattern: pseudo parameters become `*`, references to resources match nothing. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join('');
  if (!value || typeof value !== 'object') return UNKNOWN;
  const o = value as Record<string, any>;
  if (typeof o.Ref === 'string') return o.Ref.startsWith('AWS::') ? '*' : UNKNOWN;
  if (Array.isArray(o['Fn::Join'])) return (o['Fn::Join'][1] as unknown[]).map(flatten).join(o['Fn::Join'][0]);
  if (typeof o['Fn::Sub'] === 'string') return o['Fn::Sub'].replace(/\$\{AWS::[^}]+\}/g, '*').replace(/\$\{[^}]+\}/g, UNKNOWN);
  return UNKNOWN;
}

function known(value: unknown): string {
  return typeof value === 'string' && !Token.isUnresolved(value) ? value : UNKNOWN;
}

/** The resource's ARN with unknown parts (generated names, unresolved account/region) that only `*` matches. */
function arnOf(cfn: CfnResource, type: string, props: any): string {
  const stack = Stack.of(cfn);
  const where = `${known(stack.region)}:${known(stack.account)}`;
  switch (type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return `arn:aws:dynamodb:${where}:table/${known(props.TableName)}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${known(props.BucketName)}`;
    case 'AWS::RDS::DBInstance':
      return `arn:aws:rds:${where}:db:${known(props.DBInstanceIdentifier).toLowerCase()}`;
    case 'AWS::RDS::DBCluster':
      return `arn:aws:rds:${where}:cluster:${known(props.DBClusterIdentifier).toLowerCase()}`;
    default:
      return `arn:aws:elasticfilesystem:${where}:file-system/${UNKNOWN}`;
  }
}

function tagsOf(type: string, props: any): Record<string, string> {
  const tags: Record<string, string> = {};
  const add = (list: unknown) => Object.assign(tags, stringMap(list));
  add(type === 'AWS::EFS::FileSystem' ? props.FileSystemTags : props.Tags);
  if (type === 'AWS::DynamoDB::GlobalTable') for (const r of asArray(props.Replicas)) add((r as any).Tags);
  return tags;
}

/** A tag list ([{Key, Value}]) or map, as a map of the concrete entries. */
function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const t of value) {
      const k = t?.Key ?? t?.key; const v = t?.Value ?? t?.value;
      if (typeof k === 'string' && typeof v === 'string') out[k] = v;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

function asArray(value: unknown): any[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function tagKey(conditionKey: string): string {
  return conditionKey.replace(/^aws:ResourceTag\//i, '');
}

/** Environment named by a tag value ("Pro", "prod", "production", "QA", "Dev", ...). */
export function parseEnvironment(value: string | undefined): DeploymentEnvironment | undefined {
  switch (value?.trim().toLowerCase()) {
    case 'pro': case 'prod': case 'production': return DeploymentEnvironment.PRO;
    case 'qa': case 'test': case 'staging': case 'preprod': return DeploymentEnvironment.QA;
    case 'dev': case 'development': return DeploymentEnvironment.DEV;
    default: return undefined;
  }
}

function environmentOfTags(tags: Record<string, string>): DeploymentEnvironment | undefined {
  for (const key of ENVIRONMENT_KEYS) {
    const found = Object.keys(tags).find((k) => k.toLowerCase() === key);
    const env = found === undefined ? undefined : parseEnvironment(tags[found]);
    if (env) return env;
  }
  return undefined;
}

function strictest(envs: DeploymentEnvironment[]): DeploymentEnvironment | undefined {
  return envs.reduce<DeploymentEnvironment | undefined>((a, e) => (a === undefined || ORDER.indexOf(e) > ORDER.indexOf(a) ? e : a), undefined);
}
