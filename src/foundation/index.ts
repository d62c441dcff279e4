export * from './recovery-vault';
export * from './plan-registry';
export type { BackupDrProps } from './protection';
