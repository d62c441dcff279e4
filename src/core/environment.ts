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
