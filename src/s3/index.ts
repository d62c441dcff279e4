export * from './s3-archive-lifecycle';
export type { ArchiveTransition, IntelligentTieringOptions, LifecycleTagFilter } from './lifecycle-rules';
