import { Duration } from 'aws-cdk-lib';
import { DeploymentEnvironment } from './environment';

/**
 * Overrides of the environment's retention defaults. Every field is optional; an unset field
 * keeps the default of the environment (see `EnvironmentDefaults.of`).
 */
export interface RetentionOptions {
  /**
   * How long routine (RPO-driven) recovery points are kept.
   * @default - Pro 35 days, QA 14 days, Dev 7 days
   */
  readonly routine?: Duration;

  /**
   * How long the monthly sample of current data is kept. `Duration.days(0)` disables it.
   * @default - Pro 365 days, QA 90 days, Dev none
   */
  readonly monthlySample?: Duration;

  /**
   * When the monthly sample moves to cold storage (only for resource types that support it).
   * @default - Pro 30 days, otherwise never
   */
  readonly monthlySampleColdStorageAfter?: Duration;

  /**
   * How long the yearly sample of current data is kept. `Duration.days(0)` disables it.
   * @default - Pro 2,555 days (7 years), otherwise none
   */
  readonly yearlySample?: Duration;

  /**
   * When the yearly sample moves to cold storage (only for resource types that support it).
   * @default - Pro 90 days, otherwise never
   */
  readonly yearlySampleColdStorageAfter?: Duration;

  /**
   * Code and documentation: how many previous versions are kept besides the latest one.
   * @default - Pro 3, QA and Dev 1
   */
  readonly previousVersions?: number;
}

/**
 * The backup policy's defaults for one environment (documented in the README).
 */
export interface EnvironmentDefaults {
  /** Retention of routine recovery points. */
  readonly routine: Duration;
  /** Retention of the monthly sample; undefined when there is none. */
  readonly monthlySample?: Duration;
  /** Cold-storage transition of the monthly sample; undefined when it stays warm. */
  readonly monthlySampleColdStorageAfter?: Duration;
  /** Retention of the yearly sample; undefined when there is none. */
  readonly yearlySample?: Duration;
  /** Cold-storage transition of the yearly sample; undefined when it stays warm. */
  readonly yearlySampleColdStorageAfter?: Duration;
  /** Previous versions of code and documentation kept besides the latest one. */
  readonly previousVersions: number;
  /** Whether the recovery vault is locked (compliance mode) by default. */
  readonly vaultLock: boolean;
  /** Whether recovery points are copied to the DR site by default when one is given. */
  readonly copyToDrSite: boolean;
  /**
   * How long the logs of the backup machinery (scheduled jobs, exports, dumps, monitors) are kept:
   * they are the audit evidence that backups ran. A whole number of days that CloudWatch Logs accepts.
   */
  readonly operationsLogRetention: Duration;
}

const DEFAULTS: Record<DeploymentEnvironment, EnvironmentDefaults> = {
  [DeploymentEnvironment.PRO]: {
    routine: Duration.days(35),
    monthlySample: Duration.days(365),
    monthlySampleColdStorageAfter: Duration.days(30),
    yearlySample: Duration.days(7 * 365),
    yearlySampleColdStorageAfter: Duration.days(90),
    previousVersions: 3,
    vaultLock: true,
    copyToDrSite: true,
    operationsLogRetention: Duration.days(365),
  },
  [DeploymentEnvironment.QA]: {
    routine: Duration.days(14),
    monthlySample: Duration.days(90),
    previousVersions: 1,
    vaultLock: false,
    copyToDrSite: false,
    operationsLogRetention: Duration.days(90),
  },
  [DeploymentEnvironment.DEV]: {
    routine: Duration.days(7),
    previousVersions: 1,
    vaultLock: false,
    copyToDrSite: false,
    operationsLogRetention: Duration.days(30),
  },
};

/**
 * The single place where the policy's per-environment defaults live.
 */
export class PolicyDefaults {
  /** Defaults of an environment. */
  public static of(environment: DeploymentEnvironment): EnvironmentDefaults {
    return DEFAULTS[environment];
  }

  /**
   * Defaults of an environment with user overrides applied (defaults → user props).
   * A zero duration disables a sample.
   */
  public static resolve(environment: DeploymentEnvironment, overrides: RetentionOptions = {}): EnvironmentDefaults {
    const d = DEFAULTS[environment];
    const zeroIsNone = (x: Duration | undefined, dflt: Duration | undefined) => {
      const v = x ?? dflt;
      return v && !v.isUnresolved() && v.toMinutes({ integral: false }) === 0 ? undefined : v;
    };
    return {
      ...d,
      routine: overrides.routine ?? d.routine,
      monthlySample: zeroIsNone(overrides.monthlySample, d.monthlySample),
      monthlySampleColdStorageAfter: overrides.monthlySampleColdStorageAfter ?? d.monthlySampleColdStorageAfter,
      yearlySample: zeroIsNone(overrides.yearlySample, d.yearlySample),
      yearlySampleColdStorageAfter: overrides.yearlySampleColdStorageAfter ?? d.yearlySampleColdStorageAfter,
      previousVersions: overrides.previousVersions ?? d.previousVersions,
    };
  }

  private constructor() {}
}
