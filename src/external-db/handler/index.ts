/**
 * Entry point of the external database dump image (bundled to assets/external-db-dump/index.js):
 *
 * - Lambda: `CMD ["index.handler"]` — runs one backup per invocation and stops `SAFETY_MARGIN_MS` before
 *   the function timeout (the 15-minute ceiling) with a clear error, aborting the upload.
 * - Fargate (same image, no time limit): `node index.js --once` — one backup, exit code 0/1.
 * - Restore (same image, same client tools): `node index.js restore --manifest s3://bucket/key ...`
 *   (see docs/external-db-restore.md).
 */
import type { Context } from 'aws-lambda';
import { BackupRunError, BackupRunResult, emfLine, runBackup } from './backup';
import { BackupConfig, configFromEnv, DEFAULT_METRICS_NAMESPACE } from './config';
import { restoreCli } from './restore';

export { runBackup, BackupError, BackupRunError } from './backup';
export type { BackupDeps, BackupManifest, BackupRunResult, DatabaseBackupResult } from './backup';
export { configFromEnv, computePartSize } from './config';
export type { BackupConfig } from './config';
export { runRestore } from './restore';

export interface BackupEvent {
  /** Optional override of DATABASES for a manual run. */
  readonly databases?: string[];
}

export interface BackupSummary {
  readonly results: Array<{ database: string; objectKey?: string; manifestKey?: string; bytes: number; sha256?: string; durationSeconds: number }>;
}

function summarize(run: BackupRunResult): BackupSummary {
  return {
    results: run.results.map(({ database, objectKey, manifestKey, bytes, sha256, durationSeconds }) =>
      ({ database, objectKey, manifestKey, bytes, sha256, durationSeconds })),
  };
}

/** Lambda handler. Throws (the invocation fails, the Errors metric and alarms fire) when any database failed. */
export async function handler(event: BackupEvent | undefined, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<BackupSummary> {
  const config = configOrFailureMetric();
  const remaining = context?.getRemainingTimeInMillis?.();
  const deadlineAt = remaining !== undefined ? Date.now() + remaining - config.safetyMarginMs : undefined;
  const databases = Array.isArray(event?.databases) && event!.databases.length > 0 ? event!.databases : config.databases;
  return summarize(await runBackup({ ...config, databases, deadlineAt, timeBudgetMs: remaining }));
}

/** The configuration; a configuration error still emits BackupSuccess=0 (alarms see it) before it is thrown. */
function configOrFailureMetric(env: NodeJS.ProcessEnv = process.env): BackupConfig {
  try {
    return configFromEnv(env);
  } catch (err) {
    const databases = (env.DATABASES ?? '').split(',').map((d) => d.trim()).filter((d) => d.length > 0);
    for (const database of databases.length > 0 ? databases : ['default']) {
      console.log(emfLine({
        namespace: env.METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
        database,
        environment: env.ENVIRONMENT || 'Unknown',
        engine: env.ENGINE || 'unknown',
        backupJob: env.BACKUP_JOB || undefined,
        bytes: 0,
        durationSeconds: 0,
        success: false,
      }));
    }
    throw err;
  }
}

/** Fargate / command line. Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'restore') return restoreCli(argv.slice(1));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- restore drill (drill.ts), loaded in drill mode only
  if (argv[0] === 'drill') return (require('./drill') as typeof import('./drill')).drillCli(argv.slice(1));
  if (argv.includes('--once')) {
    try {
      const out = await runBackup(configOrFailureMetric());
      console.log(JSON.stringify({ level: 'INFO', msg: 'run finished', ...summarize(out) }));
      return 0;
    } catch (err) {
      const msg = err instanceof BackupRunError ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      console.error(JSON.stringify({ level: 'ERROR', msg: 'run failed', error: msg }));
      return 1;
    }
  }
  console.error('usage: node index.js --once                 # back up the databases configured in the environment\n' +
    '       node index.js restore --help         # restore a backup (see docs/external-db-restore.md)');
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
