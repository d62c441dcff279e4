import { Names } from 'aws-cdk-lib';
import * as resiliencehub from 'aws-cdk-lib/aws-resiliencehub';
import { Construct } from 'constructs';
import { defaultPolicyName } from './verification-constants';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { concreteMinutes, inScope } from '../core/validation';
import { IDrSecondarySite } from '../foundation/dr-site';

/** Properties of a ResilienceHubPolicy. */
export interface ResilienceHubPolicyProps {
  /** Declared RPO and RTO. */
  readonly objectives: RecoveryObjectives;
  /** Environment (DEV policies are `NonCritical`). */
  readonly environment: DeploymentEnvironment;
  /**
   * DR site in another Region: only then does the policy claim the objectives for a Region disruption.
   * @default - no Region objectives (backups in the same Region do not survive its loss)
   */
  readonly drSite?: IDrSecondarySite;
  /**
   * Name of the policy.
   * @default - generated from the construct path
   */
  readonly policyName?: string;
}

/**
 * An AWS Resilience Hub resiliency policy (`AWS::ResilienceHub::ResiliencyPolicy`) from the same objectives:
 * RTO and RPO in seconds for software, hardware and Availability Zone disruptions (which a restore from the
 * backups covers) and, with a DR site in another Region, for a Region disruption. The tier follows the RTO:
 * up to 1 hour MissionCritical, 4 hours Critical, 24 hours Important, longer CoreServices; DEV NonCritical.
 */
export class ResilienceHubPolicy extends Construct {
  /** The policy. */
  public readonly policy: resiliencehub.CfnResiliencyPolicy;

  constructor(scope: Construct, id: string, props: ResilienceHubPolicyProps) {
    super(scope, id);
    const { rpo, rto } = inScope(this, () => ({
      rpo: Math.round(concreteMinutes(props.objectives.rpo, 'objectives.rpo') * 60),
      rto: Math.round(concreteMinutes(props.objectives.rto, 'objectives.rto') * 60),
    }));
    const failure = { rpoInSecs: rpo, rtoInSecs: rto };
    this.policy = new resiliencehub.CfnResiliencyPolicy(this, 'Resource', {
      policyName: props.policyName ?? Names.uniqueResourceName(this, { maxLength: 60, separator: '-' }),
      policyDescription: `cdk-backup-dr: ${defaultPolicyName(props.environment, props.objectives)}` +
        (props.drSite ? `, DR site ${props.drSite.siteName} in ${props.drSite.region}` : ', no DR site (no Region objectives)'),
      tier: tierOf(props.environment, rto),
      policy: { Software: failure, Hardware: failure, AZ: failure, ...(props.drSite ? { Region: failure } : {}) },
    });
  }
}

function tierOf(environment: DeploymentEnvironment, rtoSeconds: number): string {
  if (environment === DeploymentEnvironment.DEV) return 'NonCritical';
  if (rtoSeconds <= 3600) return 'MissionCritical';
  if (rtoSeconds <= 4 * 3600) return 'Critical';
  if (rtoSeconds <= 24 * 3600) return 'Important';
  return 'CoreServices';
}
