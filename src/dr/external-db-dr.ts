import { IConstruct } from 'constructs';
import { wireDrSite } from './dr-wiring';
import { DrResourceType, DrStrategy } from '../core/dr-strategy';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { BackupDrConfigError } from '../core/validation';
import { IDrSecondarySite } from '../foundation/dr-site';

/** What ExternalDbBackupLambda hands to `checkExternalDbDr`. */
export interface ExternalDbDrOptions {
  /** The DR site (the construct's `drSite`). */
  readonly drSite: IDrSecondarySite;
  /** Environment of the database. */
  readonly environment: DeploymentEnvironment;
  /** Declared objectives. */
  readonly objectives: RecoveryObjectives;
  /** Path of the destination archive (for messages). */
  readonly destinationPath: string;
  /**
   * The DR site the destination archive replicates to.
   * @default - the destination does not replicate
   */
  readonly destinationDrSite?: IDrSecondarySite;
}

/**
 * Dumps of an external database reach the DR region through the destination archive's replication
 * (`replicateArchive`): the dump objects first, the manifest last, in the primary region. S3 replicates
 * objects independently, so in the replica a manifest may (rarely) arrive before a part: a restore in the DR
 * region reads the manifest, then checks that every object it lists exists with its SHA-256, and falls back
 * to the previous manifest otherwise (docs/dr-site.md). This check refuses a `drSite` on the dump when the
 * destination archive does not replicate to that same site.
 */
export function checkExternalDbDr(scope: IConstruct, options: ExternalDbDrOptions): DrStrategy {
  if (options.destinationDrSite !== options.drSite) {
    throw new BackupDrConfigError(
      `drSite: the dumps reach the DR site ${options.drSite.node.path} only through the replication of their destination archive ` +
      `${options.destinationPath}, which ${options.destinationDrSite ? `replicates to ${options.destinationDrSite.node.path}` : 'does not replicate'}; ` +
      'pass the same drSite to the destination S3ArchiveLifecycle',
    );
  }
  return wireDrSite(scope, {
    drSite: options.drSite, environment: options.environment, objectives: options.objectives, resourceType: DrResourceType.EXTERNAL_DATABASE,
  }).strategy;
}
