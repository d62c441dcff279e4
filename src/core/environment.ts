/**
 * The environment a protected workload belongs to. Pro gets stricter defaults
 * (longer retention, monthly and yearly samples, vault lock, DR copies).
 */
export enum DeploymentEnvironment {
  /** Production ("Pro"). */
  PRO = 'Pro',
  /** Quality assurance ("QA"). */
  QA = 'QA',
  /** Development ("Dev"). */
  DEV = 'Dev',
}

/**
 * @internal Tag key carrying the environment ('Pro' | 'QA' | 'Dev') on recovery points, plans and resources:
 * the environment boundary of team grants, the nag pack and organization policies all read this one key.
 */
export const ENVIRONMENT_TAG_KEY = 'cdk-backup-dr:environment';
