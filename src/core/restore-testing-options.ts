import { Duration } from 'aws-cdk-lib';

/**
 * Restore testing of the resources a construct protects: AWS Backup restores a recent recovery point
 * into a throw-away resource on a schedule, a validation function checks it works and measures the
 * restore time against the RTO, and AWS Backup deletes it after the validation window.
 *
 * One restore testing plan per stack and environment is shared by every construct (see
 * docs/verification.md); these options tune what this construct contributes.
 */
export interface RestoreTestingOptions {
  /**
   * Whether the resources of this construct are restore-tested.
   * @default - true for PRO and QA, false for DEV
   */
  readonly enabled?: boolean;

  /**
   * When the stack's restore testing plan of this environment runs (AWS Backup cron expression, UTC).
   * Every construct of the stack and environment must agree (one plan per stack and environment).
   * @default - PRO: weekly, Saturday 02:00 UTC (`cron(0 2 ? * SAT *)`); QA: the first Saturday of each month
   */
  readonly schedule?: string;

  /**
   * Start window of the restore testing plan: the restore jobs start within this time after the schedule.
   * Whole hours, 1 to 168.
   * @default Duration.hours(8)
   */
  readonly startWindow?: Duration;

  /**
   * How long the restored resource is kept for validation before AWS Backup deletes it.
   * Whole hours, 1 to 168.
   * @default Duration.hours(2)
   */
  readonly validationWindow?: Duration;

  /**
   * How far back a recovery point may be to be chosen (the plan's most recent recovery point within
   * this window is restored). Whole days, 1 to 365.
   * @default Duration.days(7)
   */
  readonly selectionWindow?: Duration;

  /**
   * RDS instances: DB instance class of the restored test instance (`dbInstanceClass` metadata override).
   * A smaller class is cheaper but measures a longer restore than production would see.
   * @default - the class of the recovery point (inferred by AWS Backup)
   */
  readonly rdsInstanceClass?: string;

  /**
   * RDS instances and Aurora clusters: DB subnet group of the restored test database (`dbSubnetGroupName`).
   * @default - the subnet group of the protected database when it is defined in this app, else the default VPC's
   */
  readonly rdsSubnetGroupName?: string;

  /**
   * RDS instances and Aurora clusters: security groups of the restored test database (`vpcSecurityGroupIds`).
   * @default - the security groups of the protected database when it is defined in this app, else the VPC's default group
   */
  readonly rdsSecurityGroupIds?: string[];
}
