import { parse } from 'path';
import { CfnResource } from 'aws-cdk-lib';
import { NagRuleCompliance, NagRuleFindings } from 'cdk-nag';
import { DeploymentEnvironment } from '../../../core/environment';
import { PolicyDefaults } from '../../../core/retention';
import { BackupDrModel } from '../backup-dr-model';

/**
 * Backup plan rules keep recovery points at least as long as the environment's routine retention
 * (`PolicyDefaults`: Pro 35 days, QA 14, Dev 7); one finding per short rule, named after it. The environment is
 * the plan's (tags, vault, selected resources), else the pack's `defaultEnvironment`; rules without expiry comply.
 * The library's single-copy and latest-version rules (historical data, code, documentation) keep fewer days on
 * purpose and are skipped on library plans.
 * @param node the CfnResource to check
 * @param defaultEnvironment the pack's defaultEnvironment
 */
export default Object.defineProperty(
  (node: CfnResource, defaultEnvironment?: DeploymentEnvironment): NagRuleCompliance | NagRuleFindings => {
    if (node.cfnResourceType !== 'AWS::Backup::BackupPlan') return NagRuleCompliance.NOT_APPLICABLE;
    const model = BackupDrModel.of(node);
    const env = model.planEnvironment(node) ?? defaultEnvironment;
    if (!env) return NagRuleCompliance.NOT_APPLICABLE;
    const minDays = PolicyDefaults.of(env).routine.toDays();
    const library = model.isLibraryPlan(node);
    const short = model.planRules(node)
      .filter((r) => !(library && (r.ruleName === 'SingleCopy' || r.ruleName.startsWith('Latest'))))
      .filter((r) => r.deleteAfterDays !== undefined && r.deleteAfterDays < minDays)
      .map((r) => r.ruleName);
    return short.length > 0 ? short : NagRuleCompliance.COMPLIANT;
  },
  'name',
  { value: parse(__filename).name },
);
