export * from './core';
export * from './foundation';
export * from './access';
export * from './nag';
