import { parse } from 'path';
import { CfnResource, Duration } from 'aws-cdk-lib';
import { NagRuleCompliance } from 'cdk-nag';
import { ScheduleExpression } from '../../../core/schedule-expression';
import { BackupDrModel, CONTINUOUS_RPO_MINUTES, DEFAULT_START_WINDOW_MINUTES, RPO_MINUTES_TAG } from '../backup-dr-model';

/**
 * Backup plans meet their declared RPO: the plan's best worst case (over its rules: the longest interval of the
 * schedule plus StartWindowMinutes, 8 hours when unset; 5 minutes for continuous backup) is no longer than the RPO
 * declared by the plan's `cdk-backup-dr:rpo-minutes` tag, else by the pack's `maxRpo`. Plans without either are
 * not applicable; plans whose resources all keep native point-in-time recovery (DynamoDB PITR, RDS automated
 * backups) meet RPOs of minutes whatever their schedule.
 * @param node the CfnResource to check
 * @param maxRpo the pack's maxRpo
 */
export default Object.defineProperty(
  (node: CfnResource, maxRpo?: Duration): NagRuleCompliance => {
    if (node.cfnResourceType !== 'AWS::Backup::BackupPlan') return NagRuleCompliance.NOT_APPLICABLE;
    const model = BackupDrModel.of(node);
    const tag = model.planTags(node)[RPO_MINUTES_TAG];
    const rpo = tag !== undefined && /^\d+$/.test(tag) ? Number(tag) : maxRpo?.toMinutes();
    if (rpo === undefined) return NagRuleCompliance.NOT_APPLICABLE;
    return worstCaseMinutes(model, node) <= rpo ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
  'name',
  { value: parse(__filename).name },
);

/** @internal The plan's worst-case data loss in minutes: the best of its rules. */
export function worstCaseMinutes(model: BackupDrModel, plan: CfnResource): number {
  if (model.planResourcesHaveNativePitr(plan)) return CONTINUOUS_RPO_MINUTES;
  const cases = model.planRules(plan).map((r) => {
    if (r.continuous) return CONTINUOUS_RPO_MINUTES;
    if (!r.scheduleExpression) return Number.POSITIVE_INFINITY; // on demand only
    return ScheduleExpression.maxIntervalMinutes(r.scheduleExpression) + (r.startWindowMinutes ?? DEFAULT_START_WINDOW_MINUTES);
  });
  return Math.min(Number.POSITIVE_INFINITY, ...cases);
}
