import * as fs from 'fs';
import * as path from 'path';
import { Annotations, App, IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, Validations } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { readAssembly } from './assembly';
import { buildCatalog } from './model';
import { CATALOG_FILES, renderCatalogFiles } from './render';
import { BackupCatalogMetadata } from '../core/catalog-metadata';
import { BackupDrConfigError } from '../core/validation';

const ID = 'BackupDrCatalog';

/**
 * Writes the backup inventory (Markdown, CSV, JSON) and the DR runbook (Markdown) of an app into its
 * cloud assembly at synth: `backup-catalog.md`, `backup-catalog.csv`, `backup-catalog.json` and
 * `dr-runbook.md` next to `manifest.json`. One set per app, every stack merged.
 *
 * ```ts
 * const app = new App();
 * // ... stacks with RdsBackupPolicy, DynamoPitrBackup, S3ArchiveLifecycle, ExternalDbBackupLambda
 * BackupCatalog.of(app);
 * app.synth(); // cdk.out/backup-catalog.md, .csv, .json, dr-runbook.md
 * ```
 *
 * The files are rendered from the synthesized assembly itself (the constructs' `cdk-backup-dr:catalog`
 * metadata and the templates), exactly as `npx cdk-backup-dr catalog|runbook cdk.out` renders them, so
 * names are the ones CloudFormation will use. The writer runs as a validation plugin of the app: the only
 * public hook that runs after the assembly is written.
 */
export class BackupCatalog extends Construct {
  /** File names written into the cloud assembly directory. */
  public static readonly FILE_NAMES: string[] = [...CATALOG_FILES];

  /**
   * The app's catalog writer, created on first use: calling it again returns the same writer, and the
   * files are written once per synthesis.
   * @param scope the App, or any construct of it
   */
  public static of(scope: IConstruct): BackupCatalog {
    const root = scope.node.root;
    if (!App.isApp(root)) {
      throw new BackupDrConfigError(
        `BackupCatalog.of(${scope.node.path || 'root'}): the root of the construct tree is not an App, so there is no cloud assembly ` +
        'to write the catalog into; pass a construct of an App (new App())');
    }
    return (root.node.tryFindChild(ID) as BackupCatalog | undefined) ?? new BackupCatalog(root, ID);
  }

  /** Cloud assembly directory the files are written to. */
  public readonly outdir: string;

  private readonly writer: CatalogWriter;

  private constructor(app: App, id: string) {
    super(app, id);
    this.outdir = app.outdir;
    this.writer = new CatalogWriter(this.outdir);
    // Files of an earlier synthesis into the same directory: removed before this one writes (a validation
    // plugin may add files to the assembly, not change existing ones).
    this.writer.removeStaleFiles();
    this.node.addValidation({
      validate: () => {
        this.writer.arm();
        if (BackupCatalogMetadata.entriesOf(app).length === 0) {
          Annotations.of(this).addWarningV2('cdk-backup-dr:catalog-empty',
            'BackupCatalog.of(app) was called, but no construct of the app records a backup: no inventory or runbook is written. ' +
            'Protect data with RdsBackupPolicy, DynamoPitrBackup, S3ArchiveLifecycle or ExternalDbBackupLambda');
          this.writer.disarm();
        }
        return [];
      },
    });
    Validations.of(app).addPlugins(this.writer);
  }

  /** Absolute paths of the files written at synth. */
  public get filePaths(): string[] {
    return CATALOG_FILES.map((f) => path.join(this.outdir, f));
  }
}

/**
 * The validation plugin that writes the files. aws-cdk-lib calls plugins once per environment of the
 * app's stacks; the writer renders the whole assembly on the first call of each synthesis and ignores
 * the others.
 */
class CatalogWriter implements IPolicyValidationPlugin {
  public readonly name = 'cdk-backup-dr-catalog';
  private armed = true;

  constructor(private readonly outdir: string) {}

  public arm(): void {
    this.armed = true;
    this.removeStaleFiles();
  }

  public disarm(): void {
    this.armed = false;
  }

  public removeStaleFiles(): void {
    for (const f of CATALOG_FILES) fs.rmSync(path.join(this.outdir, f), { force: true });
  }

  public validate(_context: IPolicyValidationContext): PolicyValidationPluginReport {
    if (this.armed) {
      this.armed = false;
      const files = renderCatalogFiles(buildCatalog(readAssembly(this.outdir)));
      for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(this.outdir, name), content);
    }
    return { success: true, violations: [] };
  }
}
