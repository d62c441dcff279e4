/** What a team may do with the configured backups. Each level includes the previous one. */
export enum AccessLevel {
  /** Describe and list vaults, recovery points, jobs and plans. */
  VIEW = 'VIEW',
  /** VIEW plus starting restore jobs (passing the stack's backup role to AWS Backup). */
  RESTORE = 'RESTORE',
  /** RESTORE plus on-demand backups and copies, and vault administration (notifications, tags). */
  ADMIN = 'ADMIN',
}

/** The teams the backup policy names. */
export enum Team {
  /** Site reliability engineering. */
  SRE = 'SRE',
  /** The Product team. */
  PRODUCT = 'Product',
  /** The Product Owner. */
  PRODUCT_OWNER = 'PO',
  /** Development. */
  DEVELOPMENT = 'Development',
}
