import { IConstruct } from 'constructs';

/** Metadata type under which constructs record their inventory entries. */
export const CATALOG_METADATA_TYPE = 'cdk-backup-dr:catalog';

/**
 * One row of the backup inventory: backup name | content | periodicity | environment |
 * type of backup support | location. Recorded by every construct; never written by hand.
 */
export interface CatalogEntry {
  /** Name of the backup (the construct path). */
  readonly backupName: string;
  /** Content class ("Current data", "Code", ...). */
  readonly content: string;
  /** How often and how long (derived from the rules). */
  readonly periodicity: string;
  /** Environment ("Pro", "QA", "Dev"). */
  readonly environment: string;
  /** Type of backup support ("AWS Backup + DynamoDB PITR", "S3 lifecycle", ...). */
  readonly supportType: string;
  /** Where the copies are (vault ARN, bucket URL); may be a token. */
  readonly location: string;
  /** Declared RPO, human readable. */
  readonly rpo: string;
  /** Declared RTO, human readable. */
  readonly rto: string;
}

/**
 * Reads and writes inventory entries kept as construct metadata (the extension point for the
 * generated inventory and DR runbook).
 */
export class BackupCatalogMetadata {
  /** Record an entry on a construct. */
  public static record(scope: IConstruct, entry: CatalogEntry): void {
    scope.node.addMetadata(CATALOG_METADATA_TYPE, entry, { stackTrace: false });
  }

  /** All entries recorded under `root`, in construct-tree order. */
  public static entriesOf(root: IConstruct): CatalogEntry[] {
    return root.node.findAll().flatMap((c) =>
      c.node.metadata.filter((m) => m.type === CATALOG_METADATA_TYPE).map((m) => m.data as CatalogEntry));
  }

  private constructor() {}
}
