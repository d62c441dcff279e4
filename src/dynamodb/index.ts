export * from './dynamo-pitr-backup';
export * from './backup-region-settings';
