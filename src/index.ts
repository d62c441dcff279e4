export * from './core';
export * from './foundation';
export * from './access';
