export * from './backup-catalog';
