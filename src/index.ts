export * from './core';
export * from './foundation';
export * from './access';
export * from './nag';
export * from './s3';
export * from './rds';
export * from './dynamodb';
export * from './external-db';
