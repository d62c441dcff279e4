export * from './recovery-vault';
export * from './plan-registry';
export type { BackupDrBaseProps, BackupDrProps } from './protection';
export * from './sample-export-options';
export * from './backup-key';
export type { IDrSecondarySite, DrSiteAttributes, DrReplicaBucketOptions, DrReplicaBucket } from './dr-site';
