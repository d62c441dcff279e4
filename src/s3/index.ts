export * from './s3-archive-lifecycle';
