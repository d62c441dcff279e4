export * from './recovery-objectives';
export * from './environment';
export * from './content';
export * from './retention';
export * from './schedule-derivation';
export * from './catalog-metadata';
