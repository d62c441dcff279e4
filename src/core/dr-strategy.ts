/**
 * Disaster-recovery strategies of the AWS DR whitepaper, from cheapest to most expensive.
 * The achievable RPO/RTO of each strategy per resource type is in `DrStrategyTable`.
 */
export enum DrStrategy {
  /** Backups copied to the DR site; everything is restored on failover (RPO/RTO: hours). */
  BACKUP_AND_RESTORE = 'BACKUP_AND_RESTORE',
  /** Data replicated continuously, compute off until failover (RPO: minutes, RTO: tens of minutes to hours). */
  PILOT_LIGHT = 'PILOT_LIGHT',
  /** Data replicated, a scaled-down copy running (RPO: seconds, RTO: minutes). */
  WARM_STANDBY = 'WARM_STANDBY',
  /** Active/active in both regions (RPO/RTO: near zero). */
  MULTI_SITE = 'MULTI_SITE',
}
