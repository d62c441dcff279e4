export * from './team-access';
