export * from './team-access';
export * from './environment-boundary';
