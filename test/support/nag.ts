import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';

/**
 * Runs the four cdk-nag 3 packs (AwsSolutions, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321) over an app
 * built by `build` and returns every unacknowledged finding, errors and warnings alike,
 * as "RuleId at construct/path" lines (empty when compliant).
 */
export function nagFindings(build: (app: App) => void, context: Record<string, unknown>): string[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-'));
  try {
    const app = new App({ context, outdir });
    build(app);
    for (const Pack of [AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks]) {
      Validations.of(app).addPlugins(new Pack(app));
    }
    try {
      app.synth();
    } catch (e) {
      if (!/ValidationFailed|Validation failed/.test(String(e))) throw e;
    }
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf-8'));
    return report.pluginReports.flatMap((p: any) => (p.violations ?? []).flatMap((v: any) =>
      (v.violatingConstructs ?? [{ constructPath: '?' }]).map((c: any) => `${v.ruleName} (${v.severity}) at ${c.constructPath}`)));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
