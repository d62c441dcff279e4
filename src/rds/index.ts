export * from './rds-backup-policy';
