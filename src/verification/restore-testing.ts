import { Aws, Duration, Lazy, Names, Stack, Tags, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import {
  POLICY_TAG, RESTORE_TEST_PREFIX, RESTORE_TEST_TAG, sanitizeName, TYPE_INFO, VERIFICATION_NAMESPACE, VerifiedResourceType, wholeHours,
} from './verification-constants';
import { DeploymentEnvironment } from '../core/environment';
import { RestoreTestingOptions } from '../core/restore-testing-options';
import { BackupDrConfigError, concreteDays, concreteMinutes } from '../core/validation';
import { allowCloudWatchToPublish } from '../foundation/alarm-topic';
import { handlerFunction } from '../foundation/handler-function';
import { BackupPlanRegistry } from '../foundation/plan-registry';
import { IRecoveryVault } from '../foundation/recovery-vault';
import { ScheduledJob } from '../foundation/scheduled-job';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';

/** AWS Backup restore testing quotas. */
export const MAX_RESTORE_TESTING_SELECTIONS_PER_PLAN = 30;
export const MAX_ARNS_PER_RESTORE_TESTING_SELECTION = 30;

const DEFAULT_SCHEDULES: Record<DeploymentEnvironment, string> = {
  [DeploymentEnvironment.PRO]: 'cron(0 2 ? * SAT *)',
  [DeploymentEnvironment.QA]: 'cron(0 2 ? * SAT#1 *)',
  [DeploymentEnvironment.DEV]: 'cron(0 2 ? * SAT#1 *)',
};
const DEFAULT_START_WINDOW = Duration.hours(8);
const DEFAULT_VALIDATION_WINDOW = Duration.hours(2);
const DEFAULT_SELECTION_WINDOW = Duration.days(7);

/** @internal One resource handed to restore testing. */
export interface RestoreTestedResource {
  readonly arn: string;
  readonly construct: IConstruct;
  /** Whether the resource is defined in this app (it gets the selection tag) or only known by ARN. */
  readonly taggable: boolean;
}

/** @internal What a registration hands to restore testing. */
export interface RestoreTestingRequest {
  readonly policyName: string;
  readonly rto: Duration;
  readonly resourceType: VerifiedResourceType;
  readonly resources: RestoreTestedResource[];
  readonly vault: IRecoveryVault;
  readonly options: RestoreTestingOptions;
}

interface SelectionEntry {
  readonly name: string;
  readonly arns?: string[];
  /** Tag-selected entries: the selection (its condition may move to the selection tag) and its resources. */
  readonly selection?: backup.CfnRestoreTestingSelection;
  readonly tagged?: IConstruct[];
  readonly resourceType?: VerifiedResourceType;
}

/**
 * The stack's restore testing plan of one environment (`AWS::Backup::RestoreTestingPlan`), created on
 * first registration like the backup plan registry. Resources join selections per policy, resource type
 * and restore metadata: resources defined in the app by tag (one selection whatever their number),
 * others by ARN (at most 30 per selection); at most 30 selections per plan (AWS Backup quotas, synth
 * errors beyond). A validation function runs when a restore test completes, and each policy has an
 * alarm when a restore takes longer than its RTO.
 */
export class RestoreTesting extends Construct {
  /** The restore testing of `environment` in the stack containing `scope`, created on first use. */
  public static forStack(scope: IConstruct, environment: DeploymentEnvironment, alarmTopic?: sns.ITopic): RestoreTesting {
    const stack = Stack.of(scope);
    const id = `BackupDrRestoreTesting${environment}`;
    return (stack.node.tryFindChild(id) as RestoreTesting | undefined) ?? new RestoreTesting(stack, id, environment, alarmTopic);
  }

  /** The restore testing of `environment` in the stack containing `scope`, if any. */
  public static find(scope: IConstruct, environment: DeploymentEnvironment): RestoreTesting | undefined {
    return Stack.of(scope).node.tryFindChild(`BackupDrRestoreTesting${environment}`) as RestoreTesting | undefined;
  }

  /** The restore testing plan. */
  public readonly plan: backup.CfnRestoreTestingPlan;
  /** The validation function (EventBridge invokes it when a restore test completes). */
  public readonly validationFunction: lambda.Function;
  /** Alarms: validation failures, and one per policy when a restore takes longer than the RTO. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** Environment of the plan. */
  public readonly environment: DeploymentEnvironment;

  private readonly selections = new Map<string, SelectionEntry[]>();
  /** Tag-selected selections per policy and resource type. */
  private readonly tagGroups = new Map<string, SelectionEntry[]>();
  private readonly vaultArns = new Map<string, string>();
  private readonly seenVaultArns = new Set<string>();
  private readonly policyAlarms = new Map<string, number>();
  private readonly policyByArn: Record<string, string> = {};
  private readonly alarmTopic?: sns.ITopic;
  private settings?: { schedule: string; startWindowHours: number; selectionWindowDays: number; from: string };
  private selectionCount = 0;

  private constructor(scope: Construct, id: string, environment: DeploymentEnvironment, alarmTopic?: sns.ITopic) {
    super(scope, id);
    this.environment = environment;
    this.alarmTopic = alarmTopic;
    this.plan = new backup.CfnRestoreTestingPlan(this, 'Resource', {
      restoreTestingPlanName: Lazy.string({ produce: () => sanitizeName(Names.uniqueResourceName(this, { maxLength: 50, separator: '_' }), 50) }),
      scheduleExpression: Lazy.string({ produce: () => this.settings?.schedule ?? DEFAULT_SCHEDULES[environment] }),
      scheduleExpressionTimezone: 'Etc/UTC',
      startWindowHours: Lazy.number({ produce: () => this.settings?.startWindowHours }),
      recoveryPointSelection: {
        algorithm: 'LATEST_WITHIN_WINDOW',
        includeVaults: Lazy.list({ produce: () => [...this.vaultArns.values()] }),
        // Continuous recovery points (RDS/Aurora/S3 continuous backup) and snapshots.
        recoveryPointTypes: ['CONTINUOUS', 'SNAPSHOT'],
        selectionWindowDays: Lazy.number({ produce: () => this.settings?.selectionWindowDays }),
      },
    });

    const logGroup = ScheduledJob.logGroup(this, 'ValidationLogGroup', environment);
    const role = new iam.Role(this, 'ValidationRole', {
      description: `cdk-backup-dr restore test validation (${this.node.path})`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const restored = {
      tables: `arn:${Aws.PARTITION}:dynamodb:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/${RESTORE_TEST_PREFIX}*`,
      instances: `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:db:${RESTORE_TEST_PREFIX}*`,
      clusters: `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:cluster:${RESTORE_TEST_PREFIX}*`,
      buckets: `arn:${Aws.PARTITION}:s3:::${RESTORE_TEST_PREFIX}*`,
    };
    const policy = new iam.ManagedPolicy(this, 'ValidationPolicy', {
      description: 'cdk-backup-dr restore test validation: read the restored test resources, report the result, publish metrics',
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
        // Neither restore-job action has resource-level permissions.
        new iam.PolicyStatement({ actions: ['backup:DescribeRestoreJob', 'backup:PutRestoreValidationResult', 'tag:GetResources'], resources: ['*'] }),
        new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable', 'dynamodb:Scan'], resources: [restored.tables] }),
        new iam.PolicyStatement({ actions: ['rds:DescribeDBInstances'], resources: [restored.instances] }),
        new iam.PolicyStatement({ actions: ['rds:DescribeDBClusters'], resources: [restored.clusters] }),
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [restored.buckets] }),
        new iam.PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': VERIFICATION_NAMESPACE } },
        }),
      ],
    });
    NagAcknowledgements.acknowledgeWildcards(policy, [], ['*', ...Object.values(restored)],
      'The validation reads only the throw-away resources AWS Backup restores for tests (named awsbackup-restore-test-*), ' +
      'reports on restore jobs (DescribeRestoreJob and PutRestoreValidationResult have no resource-level permissions), reads the source ' +
      'resource\'s policy tag (tag:GetResources: none either) and publishes metrics limited to the CdkBackupDr/Verification namespace by condition');

    this.validationFunction = handlerFunction(this, 'ValidationFunction', {
      description: 'cdk-backup-dr: validates restore tests (PutRestoreValidationResult) and publishes the restore duration',
      asset: 'restore-validation',
      timeout: Duration.minutes(5),
      role: role,
      policies: [policy],
      logGroup,
      // A failed validation is reported to AWS Backup first, then fails the invocation: no retry would change it.
      retryAttempts: 0,
      environment: {
        RESTORE_TESTING_PLAN_ARNS: this.plan.attrRestoreTestingPlanArn,
        POLICY_BY_ARN: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.policyByArn) }),
      },
    });
    for (const pack of ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321']) {
      NagAcknowledgements.acknowledge(this.validationFunction, `${pack}-LambdaInsideVPC`,
        'The validation checks restored resources through AWS APIs; a TCP connection check to restored databases needs the function ' +
        'in their VPC (CONNECT_CHECK=tcp), documented in docs/verification.md');
      NagAcknowledgements.acknowledge(this.validationFunction, `${pack}-LambdaConcurrency`,
        'Invoked once per completed restore test, at most the number of resources in the plan per week');
      NagAcknowledgements.acknowledge(this.validationFunction, `${pack}-LambdaDLQ`,
        'A failed validation is reported to AWS Backup (PutRestoreValidationResult) before the invocation fails and raises the errors alarm');
    }

    new events.Rule(this, 'RestoreTestCompleted', {
      description: `Restore test jobs of ${this.node.path} that completed: validate them`,
      eventPattern: {
        source: ['aws.backup'],
        detailType: ['Restore Job State Change'],
        detail: { status: ['COMPLETED'], restoreTestingPlanArn: [this.plan.attrRestoreTestingPlanArn] },
      },
      targets: [new targets.LambdaFunction(this.validationFunction, { retryAttempts: 2, maxEventAge: Duration.hours(2) })],
    });

    this.addAlarm('ValidationFailedAlarm', {
      alarmDescription: `cdk-backup-dr: a restore test of ${this.node.path} failed validation or could not be validated; ` +
        'see the validation function\'s log group and the restore job\'s validation status in AWS Backup',
      metric: this.validationFunction.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Number of restore testing selections. */
  public get selectionCountTotal(): number {
    return this.selectionCount;
  }

  /** @internal Add resources to restore testing. */
  public _add(request: RestoreTestingRequest): void {
    this.applySettings(request);
    const vaultArn = request.vault.backupVault.backupVaultArn;
    if (!this.seenVaultArns.has(vaultArn)) {
      this.seenVaultArns.add(vaultArn);
      this.vaultArns.set(Token.isUnresolved(vaultArn) ? JSON.stringify(Stack.of(this).resolve(vaultArn)) : vaultArn, vaultArn);
    }
    this.addDurationAlarm(request.policyName, request.rto);
    const validationHours = wholeHours(request.options.validationWindow ?? DEFAULT_VALIDATION_WINDOW, 'restoreTesting.validationWindow', 1, 168);

    for (const resource of request.resources) {
      const overrides = restoreMetadata(request.resourceType, resource.construct, request.options);
      const overridesKey = Object.values(overrides).some((v) => Token.isUnresolved(v))
        ? JSON.stringify(Stack.of(this).resolve(overrides))
        : JSON.stringify(overrides);
      const key = `${request.policyName}|${request.resourceType}|${validationHours}|${overridesKey}|${resource.taggable ? 'tag' : 'arn'}`;
      let entries = this.selections.get(key);
      if (!entries) {
        entries = [];
        this.selections.set(key, entries);
      }
      let entry = entries[entries.length - 1];
      const full = entry?.arns !== undefined && entry.arns.length >= MAX_ARNS_PER_RESTORE_TESTING_SELECTION;
      if (!entry || full) {
        entry = this.newSelection(request, validationHours, overrides, resource.taggable);
        entries.push(entry);
      }
      if (resource.taggable) {
        entry.tagged!.push(resource.construct);
        // The policy tag selects the group while it is the only one of its policy and type; otherwise the selection tag does.
        if (this.tagGroups.get(groupOf(request.policyName, request.resourceType))!.length > 1) this.tagForSelection(resource.construct, entry);
      } else {
        entry.arns!.push(resource.arn);
        this.policyByArn[resource.arn] = request.policyName;
      }
    }
  }

  /** Selects `resource` by the entry's own selection tag (needed once a policy and type has several selections). */
  private tagForSelection(resource: IConstruct, entry: SelectionEntry) {
    Tags.of(resource).add(RESTORE_TEST_TAG, entry.name, { includeResourceTypes: TYPE_INFO[entry.resourceType!].cfnTypes });
  }

  private newSelection(
    request: RestoreTestingRequest, validationHours: number, overrides: Record<string, string>, taggable: boolean,
  ): SelectionEntry {
    if (this.selectionCount >= MAX_RESTORE_TESTING_SELECTIONS_PER_PLAN) {
      throw new BackupDrConfigError(
        `restore testing plan ${this.node.path} would need more than ${MAX_RESTORE_TESTING_SELECTIONS_PER_PLAN} selections (AWS Backup quota: ` +
        `${MAX_RESTORE_TESTING_SELECTIONS_PER_PLAN} restore testing selections per plan, ${MAX_ARNS_PER_RESTORE_TESTING_SELECTION} ARNs per selection); ` +
        'resources defined in the app share one selection per policy, resource type and restore metadata, imported ones need one per 30 ARNs. ' +
        'Group resources under fewer policies, move some to another stack, or set restoreTesting: { enabled: false } on the constructs you test elsewhere',
      );
    }
    this.selectionCount++;
    const info = TYPE_INFO[request.resourceType];
    const name = sanitizeName(`${request.policyName}_${info.short}_${this.selectionCount}`, 50);
    const arns: string[] | undefined = taggable ? undefined : [];
    const selection = new backup.CfnRestoreTestingSelection(this, `Selection${this.selectionCount}`, {
      restoreTestingPlanName: this.plan.restoreTestingPlanName,
      restoreTestingSelectionName: name,
      protectedResourceType: info.restoreTestingType,
      iamRoleArn: BackupPlanRegistry.of(this).role.roleArn,
      validationWindowHours: validationHours,
      restoreMetadataOverrides: Object.keys(overrides).length > 0 ? overrides : undefined,
      ...(taggable
        ? { protectedResourceArns: ['*'], protectedResourceConditions: tagCondition(POLICY_TAG, request.policyName) }
        : { protectedResourceArns: Lazy.list({ produce: () => arns! }) }),
    });
    selection.node.addDependency(this.plan);
    const entry: SelectionEntry = taggable ? { name, selection, tagged: [], resourceType: request.resourceType } : { name, arns };
    if (taggable) {
      // Resources defined in the app carry the policy tag already: one selection of a policy and type selects by it (no
      // tag per resource). A second selection of the same policy and type (other restore metadata or validation window)
      // would overlap it, so from then on every selection of the group selects by its own tag.
      const group = groupOf(request.policyName, request.resourceType);
      const siblings = this.tagGroups.get(group) ?? [];
      this.tagGroups.set(group, [...siblings, entry]);
      if (siblings.length === 1) {
        const first = siblings[0];
        first.selection!.protectedResourceConditions = tagCondition(RESTORE_TEST_TAG, first.name);
        first.tagged!.forEach((r) => this.tagForSelection(r, first));
      }
      if (siblings.length >= 1) selection.protectedResourceConditions = tagCondition(RESTORE_TEST_TAG, name);
    }
    return entry;
  }

  private applySettings(request: RestoreTestingRequest) {
    const o = request.options;
    const schedule = o.schedule ?? DEFAULT_SCHEDULES[this.environment];
    if (!Token.isUnresolved(schedule) && !/^(cron|rate|at)\(.+\)$/.test(schedule)) {
      throw new BackupDrConfigError(`restoreTesting.schedule is "${schedule}", but AWS Backup expects a cron expression such as cron(0 2 ? * SAT *)`);
    }
    const startWindowHours = wholeHours(o.startWindow ?? DEFAULT_START_WINDOW, 'restoreTesting.startWindow', 1, 168);
    const selectionWindowDays = concreteDays(o.selectionWindow ?? DEFAULT_SELECTION_WINDOW, 'restoreTesting.selectionWindow');
    if (selectionWindowDays < 1 || selectionWindowDays > 365) {
      throw new BackupDrConfigError(`restoreTesting.selectionWindow is ${selectionWindowDays} days, but AWS Backup accepts 1 to 365 days`);
    }
    const next = { schedule, startWindowHours, selectionWindowDays, from: request.policyName };
    if (!this.settings) {
      this.settings = next;
      return;
    }
    for (const k of ['schedule', 'startWindowHours', 'selectionWindowDays'] as const) {
      const explicit = k === 'schedule' ? o.schedule : k === 'startWindowHours' ? o.startWindow : o.selectionWindow;
      if (explicit !== undefined && this.settings[k] !== next[k]) {
        throw new BackupDrConfigError(
          `restoreTesting: ${k} ${next[k]} differs from ${this.settings[k]}, set by an earlier construct (policy ${this.settings.from}) of the same ` +
          `restore testing plan (${this.node.path}: one per stack and environment); use the same value in every construct of the stack, or omit it`,
        );
      }
    }
  }

  private addDurationAlarm(policyName: string, rto: Duration) {
    if (this.policyAlarms.has(policyName)) {
      if (this.policyAlarms.get(policyName) !== concreteMinutes(rto, 'objectives.rto')) {
        throw new BackupDrConfigError(`policy ${policyName} is registered with two RTOs; give each objectives its own policyName`);
      }
      return;
    }
    const rtoMinutes = concreteMinutes(rto, 'objectives.rto');
    this.policyAlarms.set(policyName, rtoMinutes);
    this.addAlarm(`RestoreTime${this.policyAlarms.size}Alarm`, {
      alarmDescription: `cdk-backup-dr: a restore test of policy ${policyName} took longer than its RTO of ${rto.toHumanString()} ` +
        `(RestoreDurationSeconds, Policy=${policyName}); the objectives are not met by restoring from backup`,
      metric: new cloudwatch.Metric({
        namespace: VERIFICATION_NAMESPACE,
        metricName: 'RestoreDurationSeconds',
        dimensionsMap: { Policy: policyName },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.hours(6),
      }),
      threshold: Math.round(rtoMinutes * 60),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No restore test in the period is no evidence either way (the compliance framework's restore-time control covers absence).
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  private addAlarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, props);
    if (this.alarmTopic) {
      allowCloudWatchToPublish(this.alarmTopic);
      alarm.addAlarmAction(new cw_actions.SnsAction(this.alarmTopic));
    }
    this.alarms.push(alarm);
    return alarm;
  }
}

/**
 * The restore metadata each type needs (keys from "Restore testing inferred metadata", AWS Backup
 * Developer Guide): RDS/Aurora never public, in the protected database's subnet group and security
 * groups when known; list values are JSON-array strings.
 */
function groupOf(policyName: string, type: VerifiedResourceType): string {
  return `${policyName}|${type}`;
}

function tagCondition(key: string, value: string): backup.CfnRestoreTestingSelection.ProtectedResourceConditionsProperty {
  return { stringEquals: [{ key: `aws:ResourceTag/${key}`, value }] };
}

function restoreMetadata(type: VerifiedResourceType, construct: IConstruct, o: RestoreTestingOptions): Record<string, string> {
  const stack = Stack.of(construct);
  const out: Record<string, string> = {};
  const cfn = construct.node.defaultChild;
  if (type === VerifiedResourceType.RDS_INSTANCE) {
    out.publiclyAccessible = 'false';
    if (o.rdsInstanceClass) out.dbInstanceClass = o.rdsInstanceClass;
    const db = cfn instanceof rds.CfnDBInstance ? cfn : undefined;
    const subnetGroup = o.rdsSubnetGroupName ?? db?.dbSubnetGroupName;
    if (subnetGroup) out.dbSubnetGroupName = subnetGroup;
    const sgs = o.rdsSecurityGroupIds ?? db?.vpcSecurityGroups;
    if (sgs && (Token.isUnresolved(sgs) || sgs.length > 0)) out.vpcSecurityGroupIds = stack.toJsonString(sgs);
  } else if (type === VerifiedResourceType.AURORA_CLUSTER) {
    const cluster = cfn instanceof rds.CfnDBCluster ? cfn : undefined;
    const subnetGroup = o.rdsSubnetGroupName ?? cluster?.dbSubnetGroupName;
    if (subnetGroup) out.dbSubnetGroupName = subnetGroup;
    const sgs = o.rdsSecurityGroupIds ?? cluster?.vpcSecurityGroupIds;
    if (sgs && (Token.isUnresolved(sgs) || sgs.length > 0)) out.vpcSecurityGroupIds = stack.toJsonString(sgs);
  }
  return out;
}
