export * from './external-db-backup-lambda';
export * from './external-db-engine';
export { ArchiveDumpDestinationOptions, DumpCompression, DumpCompute, DumpComputeKind, DumpDestination, DumpDestinationOptions, FargateDumpComputeOptions, LambdaDumpComputeOptions } from './dump-options';
