/**
 * What kind of content a backup holds; each class has its own periodicity and retention
 * (see the backup policy and the README's table of defaults).
 */
export enum BackupContent {
  /** Code: the latest version of the Pro/Dev/QA branches, plus a bounded history. */
  CODE = 'Code',
  /** Historical data: a single archived copy. */
  HISTORICAL_DATA = 'Historical data',
  /** Current data: scheduled backups from the RPO plus an updated sample each month and year. */
  CURRENT_DATA = 'Current data',
  /** Procedural documentation (deployment process, architecture, operations): a single copy. */
  DOCUMENTATION = 'Documentation',
}
