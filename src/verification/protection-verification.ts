import { CfnResource, Stack, Tags } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { RecoveryPointMonitor } from './recovery-point-monitor';
import { RestoreTesting, RestoreTestedResource } from './restore-testing';
import { checkPolicyName, defaultPolicyName, PLAN_TAG, planCheckOf, POLICY_TAG, TYPE_INFO, VerifiedResourceType } from './verification-constants';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { RestoreTestingOptions } from '../core/restore-testing-options';
import { DerivedBackupPolicy } from '../core/schedule-derivation';
import { BackupDrConfigError, concreteMinutes, inScope } from '../core/validation';
import { IRecoveryVault } from '../foundation/recovery-vault';

/** One protected resource handed to the verification. */
export interface VerifiedResource {
  /** ARN of the resource (tokens allowed). */
  readonly arn: string;
  /**
   * The resource's construct. When it is defined in this app it is tagged with its policy (monitor, metrics,
   * compliance scope) and its restore testing selection; an imported resource is verified by ARN.
   */
  readonly construct: IConstruct;
}

/** What a protection construct registers for run-time verification. */
export interface ProtectionVerificationProps {
  /** Type of the resources. */
  readonly resourceType: VerifiedResourceType;
  /** The protected resources. */
  readonly resources: VerifiedResource[];
  /** Environment of the resources. */
  readonly environment: DeploymentEnvironment;
  /** Declared RPO and RTO: the monitor's and restore tests' alarm thresholds. */
  readonly objectives: RecoveryObjectives;
  /** The derived rules (the compliance framework's plan frequency and retention controls). */
  readonly policy: DerivedBackupPolicy;
  /** Vault holding the recovery points (restore testing takes them from it; its topic gets the alarms). */
  readonly vault: IRecoveryVault;
  /**
   * AWS Backup plan of the resources (tagged with the policy, for the compliance framework's plan controls).
   * @default - no plan controls for these resources
   */
  readonly backupPlan?: backup.IBackupPlan;
  /**
   * Name of the policy: the `Policy` metric dimension, the value of the `cdk-backup-dr:policy` tag.
   * @default - environment and objectives, e.g. `Pro-rpo15m-rto60m`
   */
  readonly policyName?: string;
  /**
   * Restore testing of these resources.
   * @default - on for PRO and QA, off for DEV, with the defaults of `RestoreTestingOptions`
   */
  readonly restoreTesting?: RestoreTestingOptions;
  /**
   * Whether the resources keep native point-in-time recovery or continuous backup, whose latest restorable
   * time the monitor reads (DynamoDB PITR, RDS/Aurora continuous backup).
   * @default false
   */
  readonly continuousNative?: boolean;
}

/** @internal A registration as the compliance framework reads it. */
export interface VerificationRegistration extends ProtectionVerificationProps {
  readonly policyName: string;
  readonly scope: IConstruct;
  readonly restoreTested: boolean;
}

const REGISTRY_ID = 'BackupDrVerification';

/**
 * The run-time verification of a stack: protection constructs register what they protect; the stack
 * gets one recovery-point monitor, one restore testing plan per environment (PRO and QA by default),
 * and the registrations feed `BackupComplianceFramework`.
 */
export class ProtectionVerification extends Construct {
  /** Register resources for verification (the single entry point the protection constructs call). */
  public static register(scope: Construct, props: ProtectionVerificationProps): void {
    inScope(scope, () => ProtectionVerification.of(scope).add(scope, props));
  }

  /** The verification registry of the stack containing `scope`, created on first use. */
  public static of(scope: IConstruct): ProtectionVerification {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(REGISTRY_ID) as ProtectionVerification | undefined) ?? new ProtectionVerification(stack, REGISTRY_ID);
  }

  /** @internal Every registration of every stack under `root` (an app or a stage), in construct-tree order. */
  public static _registrationsUnder(root: IConstruct): VerificationRegistration[] {
    return root.node.findAll().filter((c): c is ProtectionVerification => c instanceof ProtectionVerification).flatMap((r) => r._registrations);
  }

  /** @internal */
  public readonly _registrations: VerificationRegistration[] = [];
  private readonly policies = new Map<string, { environment: DeploymentEnvironment; rpo: number; rto: number }>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
  }

  private add(scope: IConstruct, props: ProtectionVerificationProps) {
    if (!props.resources || props.resources.length === 0) return;
    const policyName = checkPolicyName(props.policyName ?? defaultPolicyName(props.environment, props.objectives));
    const rpo = concreteMinutes(props.objectives.rpo, 'objectives.rpo');
    const rto = concreteMinutes(props.objectives.rto, 'objectives.rto');
    const known = this.policies.get(policyName);
    if (known && (known.environment !== props.environment || known.rpo !== rpo || known.rto !== rto)) {
      throw new BackupDrConfigError(
        `policyName "${policyName}" is already used in this stack for ${known.environment} RPO ${known.rpo} min / RTO ${known.rto} min, ` +
        `not ${props.environment} RPO ${rpo} min / RTO ${rto} min; one policy has one set of objectives: choose another policyName`,
      );
    }
    this.policies.set(policyName, { environment: props.environment, rpo, rto });

    const resources: RestoreTestedResource[] = props.resources.map((r) => ({
      arn: r.arn, construct: r.construct, taggable: isTaggable(r.construct, props.resourceType),
    }));
    const cfnTypes = TYPE_INFO[props.resourceType].cfnTypes;
    for (const r of resources) {
      if (r.taggable) Tags.of(r.construct).add(POLICY_TAG, policyName, { includeResourceTypes: cfnTypes });
    }
    // A plan may be shared by several policies (same rules): its tag names the rules, not a policy.
    const planCheck = planCheckOf(props.policy);
    if (props.backupPlan && planCheck) Tags.of(props.backupPlan).add(PLAN_TAG, planCheck.tagValue, { includeResourceTypes: ['AWS::Backup::BackupPlan'] });

    const topic = notificationTopicOf(props.vault);
    RecoveryPointMonitor.of(scope, props.environment, topic)._addPolicy(
      { name: policyName, rpo: props.objectives.rpo, environment: props.environment },
      props.continuousNative ? props.resourceType : undefined,
      resources.filter((r) => !r.taggable).map((r) => r.arn),
    );

    const options = props.restoreTesting ?? {};
    const restoreTested = options.enabled ?? props.environment !== DeploymentEnvironment.DEV;
    if (restoreTested) {
      RestoreTesting.forStack(scope, props.environment, topic)._add({
        policyName, rto: props.objectives.rto, resourceType: props.resourceType, resources, vault: props.vault, options,
      });
    }
    this._registrations.push({ ...props, policyName, scope, restoreTested });
  }
}

/** Resources defined in this app (their L1 has the expected type) can be tagged; imported ones cannot. */
function isTaggable(construct: IConstruct, type: VerifiedResourceType): boolean {
  const cfn = construct.node.defaultChild;
  return cfn instanceof CfnResource && TYPE_INFO[type].cfnTypes.includes(cfn.cfnResourceType);
}

/** @internal The vault's failure topic, when it has one. */
export function notificationTopicOf(vault: IRecoveryVault): sns.ITopic | undefined {
  return (vault as { notificationTopic?: sns.ITopic }).notificationTopic;
}
