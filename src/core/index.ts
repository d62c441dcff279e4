export * from './recovery-objectives';
export * from './environment';
export * from './content';
export * from './retention';
export * from './schedule-derivation';
export * from './catalog-metadata';
export { DrStrategy, DrResourceType, DrStrategyTable, DR_STRATEGIES_BY_COST } from './dr-strategy';
export type { DrStrategyBound, DrWorkload } from './dr-strategy';
export type { RestoreTestingOptions } from './restore-testing-options';
