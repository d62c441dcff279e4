export * from './nag-acknowledgements';
export * from './backup-dr-checks';
