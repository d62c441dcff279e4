import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { BackupDrChecks, BackupDrChecksProps } from '../../../src/nag/backup-dr-checks';
import { TEST_CONTEXT, TEST_ENV } from '../../support/app';

/** One finding of the pack: rule id, construct path, severity and message. */
export interface Finding {
  readonly rule: string;
  readonly path: string;
  readonly severity: string;
  readonly description: string;
}

/**
 * Synthesizes an app built by `build` with only the BackupDrChecks pack as a validation plugin and returns its
 * unacknowledged findings (from the cloud assembly's validation report, as `cdk synth` would print them).
 */
export function backupDrFindings(build: (app: App) => void, props?: BackupDrChecksProps): Finding[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'backupdr-'));
  try {
    const app = new App({ context: TEST_CONTEXT, outdir });
    build(app);
    Validations.of(app).addPlugins(new BackupDrChecks(app, props));
    try {
      app.synth();
    } catch (e) {
      if (!/ValidationFailed|Validation failed/.test(String(e))) throw e;
    }
    const file = path.join(outdir, 'validation-report.json');
    if (!fs.existsSync(file)) return [];
    const report = JSON.parse(fs.readFileSync(file, 'utf-8'));
    return report.pluginReports.flatMap((p: any) => (p.violations ?? []).flatMap((v: any) =>
      (v.violatingConstructs ?? []).map((c: any) => ({
        rule: v.ruleName, path: c.constructPath, severity: v.severity, description: v.description,
      }))));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** `rule at path` lines of the findings of one rule. */
export function findingsOf(rule: string, build: (app: App) => void, props?: BackupDrChecksProps): string[] {
  return backupDrFindings(build, props)
    .filter((f) => f.rule === `BackupDR-${rule}` || f.rule.startsWith(`BackupDR-${rule}[`))
    .map((f) => `${f.rule} at ${f.path}`);
}

/** A stack in `app` with the test environment. */
export function stackIn(app: App, id = 'Stack'): Stack {
  return new Stack(app, id, { env: TEST_ENV });
}
