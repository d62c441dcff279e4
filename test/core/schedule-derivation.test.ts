import { Duration, Token } from 'aws-cdk-lib';
import {
  BackupContent, BackupPolicyDerivation, BackupPolicyInput, BackupRuleKind, ContinuousBackupSupport,
  DeploymentEnvironment, RecoveryTier,
} from '../../src';

const { PRO, QA, DEV } = DeploymentEnvironment;
const { AWS_BACKUP, NATIVE } = ContinuousBackupSupport;

/** [name, schedule, deleteAfterDays, coldAfterDays | undefined, continuous] for compact expectations. */
type RuleRow = [string, string, number, number | undefined, boolean];

function rows(input: BackupPolicyInput): RuleRow[] {
  return BackupPolicyDerivation.derive(input).rules.map((r) => [
    r.ruleName, r.scheduleExpression, r.deleteAfter.toDays(), r.moveToColdStorageAfter?.toDays(), r.enableContinuousBackup,
  ]);
}

const MONTHLY_PRO: RuleRow = ['MonthlySample', 'cron(0 4 1 * ? *)', 365, undefined, false];
const YEARLY_PRO: RuleRow = ['YearlySample', 'cron(0 5 1 1 ? *)', 2555, undefined, false];

describe('BackupPolicyDerivation.derive', () => {
  test.each<[string, BackupPolicyInput, RuleRow[]]>([
    ['STANDARD Pro current data: 12-hourly + monthly + yearly samples',
      { objectives: RecoveryTier.STANDARD, environment: PRO },
      [['RoutineEvery12h', 'cron(0 0/12 * * ? *)', 35, undefined, false], MONTHLY_PRO, YEARLY_PRO]],
    ['STANDARD Pro with cold storage: samples move to cold storage',
      { objectives: RecoveryTier.STANDARD, environment: PRO, coldStorageSupported: true },
      [['RoutineEvery12h', 'cron(0 0/12 * * ? *)', 35, undefined, false],
        ['MonthlySample', 'cron(0 4 1 * ? *)', 365, 30, false], ['YearlySample', 'cron(0 5 1 1 ? *)', 2555, 90, false]]],
    ['STANDARD QA: 14 days + 3-month monthly sample, no yearly',
      { objectives: RecoveryTier.STANDARD, environment: QA, coldStorageSupported: true },
      [['RoutineEvery12h', 'cron(0 0/12 * * ? *)', 14, undefined, false], ['MonthlySample', 'cron(0 4 1 * ? *)', 90, undefined, false]]],
    ['STANDARD Dev: 7 days only',
      { objectives: RecoveryTier.STANDARD, environment: DEV },
      [['RoutineEvery12h', 'cron(0 0/12 * * ? *)', 7, undefined, false]]],
    ['CRITICAL Pro with AWS Backup continuous: continuous rule (35 days)',
      { objectives: RecoveryTier.CRITICAL, environment: PRO, continuousBackup: AWS_BACKUP },
      [['Continuous', 'cron(0 3 * * ? *)', 35, undefined, true], MONTHLY_PRO, YEARLY_PRO]],
    ['CRITICAL Pro with native PITR: daily full backups, PITR on the resource',
      { objectives: RecoveryTier.CRITICAL, environment: PRO, continuousBackup: NATIVE },
      [['RoutineDaily', 'cron(0 3 * * ? *)', 35, undefined, false], MONTHLY_PRO, YEARLY_PRO]],
    ['CRITICAL with 60-day routine retention: continuous capped at 35 + daily snapshots for the rest',
      { objectives: RecoveryTier.CRITICAL, environment: DEV, retention: { routine: Duration.days(60) } },
      [['Continuous', 'cron(0 3 * * ? *)', 35, undefined, true], ['RoutineDaily', 'cron(0 3 * * ? *)', 60, undefined, false]]],
    ['RPO 2 h: hourly snapshots (1 h interval + 1 h start window)',
      { objectives: { rpo: Duration.hours(2), rto: Duration.hours(4) }, environment: DEV },
      [['RoutineHourly', 'cron(0 * * * ? *)', 7, undefined, false]]],
    ['RPO 1 h: hourly snapshots cannot meet it (worst case 2 h) → continuous',
      { objectives: { rpo: Duration.hours(1), rto: Duration.hours(4) }, environment: DEV },
      [['Continuous', 'cron(0 3 * * ? *)', 7, undefined, true]]],
    ['RPO 119 minutes → continuous',
      { objectives: { rpo: Duration.minutes(119), rto: Duration.hours(4) }, environment: DEV },
      [['Continuous', 'cron(0 3 * * ? *)', 7, undefined, true]]],
    ['RPO 5 h: every 4 hours',
      { objectives: { rpo: Duration.hours(5), rto: Duration.hours(4) }, environment: DEV },
      [['RoutineEvery4h', 'cron(0 0/4 * * ? *)', 7, undefined, false]]],
    ['ARCHIVE (7 days): weekly + 1 h window exceeds 7 days → daily',
      { objectives: RecoveryTier.ARCHIVE, environment: DEV },
      [['RoutineDaily', 'cron(0 3 * * ? *)', 7, undefined, false]]],
    ['RPO 8 days: weekly, kept for two intervals at least',
      { objectives: { rpo: Duration.days(8), rto: Duration.days(3) }, environment: DEV },
      [['RoutineWeekly', 'cron(0 3 ? * SUN *)', 14, undefined, false]]],
    ['RPO 40 days: monthly, kept for two intervals',
      { objectives: { rpo: Duration.days(40), rto: Duration.days(3) }, environment: DEV },
      [['RoutineMonthly', 'cron(0 3 1 * ? *)', 62, undefined, false]]],
    ['Historical data: a single copy, replaced once the next one completes',
      { objectives: RecoveryTier.ARCHIVE, environment: PRO, content: BackupContent.HISTORICAL_DATA },
      [['SingleCopy', 'cron(0 3 * * ? *)', 2, undefined, false]]],
    ['Code in Pro: latest + 3 previous versions (12-hourly → 3 days)',
      { objectives: RecoveryTier.STANDARD, environment: PRO, content: BackupContent.CODE },
      [['LatestEvery12h', 'cron(0 0/12 * * ? *)', 3, undefined, false]]],
    ['Documentation in Dev: latest + 1 previous version (daily → 3 days)',
      { objectives: RecoveryTier.ARCHIVE, environment: DEV, content: BackupContent.DOCUMENTATION },
      [['LatestDaily', 'cron(0 3 * * ? *)', 3, undefined, false]]],
    ['monthly sample disabled with a zero duration',
      { objectives: RecoveryTier.STANDARD, environment: QA, retention: { monthlySample: Duration.days(0) } },
      [['RoutineEvery12h', 'cron(0 0/12 * * ? *)', 14, undefined, false]]],
    ['sample overrides with cold storage',
      {
        objectives: RecoveryTier.STANDARD,
        environment: PRO,
        coldStorageSupported: true,
        retention: { monthlySample: Duration.days(200), monthlySampleColdStorageAfter: Duration.days(110), yearlySample: Duration.days(0) },
      },
      [['RoutineEvery12h', 'cron(0 0/12 * * ? *)', 35, undefined, false], ['MonthlySample', 'cron(0 4 1 * ? *)', 200, 110, false]]],
  ])('%s', (_name, input, expected) => {
    expect(rows(input)).toEqual(expected);
  });

  test('every rule has explicit windows: start 60 min, completion at least 60 min longer', () => {
    for (const tier of [RecoveryTier.CRITICAL, RecoveryTier.STANDARD, RecoveryTier.ARCHIVE]) {
      for (const r of BackupPolicyDerivation.derive({ objectives: tier, environment: PRO }).rules) {
        expect(r.startWindow.toMinutes()).toBe(60);
        expect(r.completionWindow.toMinutes()).toBeGreaterThanOrEqual(120);
      }
    }
  });

  test.each([
    [{ rpo: Duration.hours(2), rto: Duration.hours(4) }, 120],
    [RecoveryTier.STANDARD, 13 * 60],
    [RecoveryTier.ARCHIVE, 25 * 60],
  ])('worst-case RPO is interval + start window and never exceeds the RPO (%#)', (objectives, minutes) => {
    const policy = BackupPolicyDerivation.derive({ objectives, environment: DEV });
    expect(policy.worstCaseRpo.toMinutes()).toBe(minutes);
    expect(minutes).toBeLessThanOrEqual(objectives.rpo.toMinutes());
  });

  test('continuous/PITR: worst case is the minimum continuous RPO; native PITR flagged', () => {
    const native = BackupPolicyDerivation.derive({ objectives: RecoveryTier.CRITICAL, environment: QA, continuousBackup: NATIVE });
    expect(native.requiresNativePointInTimeRecovery).toBe(true);
    expect(native.pointInTimeRecoveryDays).toBe(14);
    expect(native.worstCaseRpo.toMinutes()).toBe(5);
    const scheduled = BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: PRO, continuousBackup: NATIVE });
    expect(scheduled.requiresNativePointInTimeRecovery).toBe(false);
    expect(scheduled.pointInTimeRecoveryDays).toBe(35);
  });

  test('periodicity describes the rules for the inventory', () => {
    expect(BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: PRO }).periodicity)
      .toBe('every 12 hours (35 days); monthly sample (365 days); yearly sample (2555 days)');
    expect(BackupPolicyDerivation.derive({ objectives: RecoveryTier.CRITICAL, environment: DEV, continuousBackup: NATIVE }).periodicity)
      .toBe('continuous (native point-in-time recovery); daily (7 days)');
  });

  test('the key is stable for equal inputs and differs when the rules differ', () => {
    const key = (i: BackupPolicyInput) => BackupPolicyDerivation.derive(i).key;
    expect(key({ objectives: RecoveryTier.STANDARD, environment: PRO }))
      .toBe(key({ objectives: { rpo: Duration.hours(24), rto: Duration.hours(8) }, environment: PRO }));
    // Different objectives that derive the same rules share the key (and so the plan).
    expect(key({ objectives: { rpo: Duration.hours(20), rto: Duration.hours(2) }, environment: DEV }))
      .toBe(key({ objectives: RecoveryTier.STANDARD, environment: DEV }));
    expect(key({ objectives: RecoveryTier.STANDARD, environment: PRO })).not.toBe(key({ objectives: RecoveryTier.STANDARD, environment: QA }));
    expect(key({ objectives: RecoveryTier.STANDARD, environment: PRO, coldStorageSupported: true }))
      .not.toBe(key({ objectives: RecoveryTier.STANDARD, environment: PRO }));
  });

  test('rule kinds', () => {
    expect(BackupPolicyDerivation.derive({ objectives: RecoveryTier.CRITICAL, environment: PRO }).rules.map((r) => r.kind))
      .toEqual([BackupRuleKind.CONTINUOUS, BackupRuleKind.MONTHLY_SAMPLE, BackupRuleKind.YEARLY_SAMPLE]);
    const historical = BackupPolicyDerivation.derive({ objectives: RecoveryTier.ARCHIVE, environment: PRO, content: BackupContent.HISTORICAL_DATA });
    expect(historical.rules[0].kind).toBe(BackupRuleKind.SINGLE_COPY);
  });

  describe('objectives no supported method can meet', () => {
    test.each<[string, BackupPolicyInput, RegExp]>([
      ['RPO of zero', { objectives: { rpo: Duration.minutes(0), rto: Duration.hours(1) }, environment: PRO },
        /objectives.rpo is 0 minutes: no backup method can guarantee zero data loss/],
      ['RPO below what PITR guarantees', { objectives: { rpo: Duration.minutes(4), rto: Duration.hours(1) }, environment: PRO },
        /objectives.rpo is 4 minutes, below the 5 minutes that point-in-time recovery guarantees/],
      ['engine-specific minimum', { objectives: { rpo: Duration.minutes(10), rto: Duration.hours(1) }, environment: PRO, minimumContinuousRpo: Duration.minutes(15) },
        /below the 15 minutes/],
      ['RPO under 2 h without point-in-time recovery', { objectives: RecoveryTier.CRITICAL, environment: PRO, continuousBackup: ContinuousBackupSupport.NONE },
        /no point-in-time recovery .* declare an RPO of at least 2 hours/],
      ['historical data with a sub-hour RPO', { objectives: RecoveryTier.CRITICAL, environment: PRO, content: BackupContent.HISTORICAL_DATA },
        /Historical data is protected by scheduled copies.*at least 2 hours/],
      ['RTO under 15 minutes', { objectives: { rpo: Duration.hours(4), rto: Duration.minutes(5) }, environment: PRO },
        /objectives.rto is 5 minutes: restoring from a backup takes longer than 15 minutes/],
      ['token RPO', { objectives: { rpo: Duration.hours(Token.asNumber({ Ref: 'Rpo' })), rto: Duration.hours(8) }, environment: PRO },
        /objectives.rpo is a token .* pass a concrete Duration/],
      ['token RTO', { objectives: { rpo: Duration.hours(8), rto: Duration.minutes(Token.asNumber({ Ref: 'Rto' })) }, environment: PRO },
        /objectives.rto is a token/],
      ['token retention', { objectives: RecoveryTier.STANDARD, environment: PRO, retention: { routine: Duration.days(Token.asNumber({ Ref: 'Days' })) } },
        /retention.routine is a token/],
      ['retention beyond 100 years', { objectives: RecoveryTier.STANDARD, environment: PRO, retention: { routine: Duration.days(40_000) } },
        /retention.routine \(days\) is 40000, but must be between 1 and 36500/],
      ['sample beyond 100 years', { objectives: RecoveryTier.STANDARD, environment: PRO, retention: { yearlySample: Duration.days(36_501) } },
        /retention.yearlySample \(days\) is 36501/],
      ['cold storage with less than 90 days after it', {
        objectives: RecoveryTier.STANDARD,
        environment: PRO,
        coldStorageSupported: true,
        retention: { monthlySample: Duration.days(100), monthlySampleColdStorageAfter: Duration.days(30) },
      }, /retention.monthlySample is 100 days but retention.monthlySampleColdStorageAfter is 30 days.*keep it for 120 days or more/],
      ['a monthly sample kept less than a month', { objectives: RecoveryTier.STANDARD, environment: QA, retention: { monthlySample: Duration.days(10) } },
        /retention.monthlySample is 10 days, shorter than the monthly interval of the sample \(31 days\).*at least 31 days, or disable it with Duration.days\(0\)/],
      ['a yearly sample kept less than a year', { objectives: RecoveryTier.STANDARD, environment: PRO, retention: { yearlySample: Duration.days(200) } },
        /retention.yearlySample is 200 days, shorter than the yearly interval of the sample \(365 days\)/],
      ['fractional previous versions', { objectives: RecoveryTier.STANDARD, environment: PRO, content: BackupContent.CODE, retention: { previousVersions: 1.5 } },
        /previousVersions is 1.5, but must be a whole number/],
      ['negative previous versions', { objectives: RecoveryTier.STANDARD, environment: PRO, content: BackupContent.CODE, retention: { previousVersions: -1 } },
        /previousVersions is -1/],
    ])('%s', (_name, input, message) => {
      expect(() => BackupPolicyDerivation.derive(input)).toThrow(message);
    });
  });

  test('accepted edges: samples kept exactly one interval; a disabled sample', () => {
    const p = BackupPolicyDerivation.derive({
      objectives: RecoveryTier.STANDARD, environment: PRO, retention: { monthlySample: Duration.days(31), yearlySample: Duration.days(365) },
    });
    expect(p.rules.find((r) => r.kind === BackupRuleKind.MONTHLY_SAMPLE)?.deleteAfter.toDays()).toBe(31);
    expect(p.rules.find((r) => r.kind === BackupRuleKind.YEARLY_SAMPLE)?.deleteAfter.toDays()).toBe(365);
    const q = BackupPolicyDerivation.derive({ objectives: RecoveryTier.STANDARD, environment: QA, retention: { monthlySample: Duration.days(0) } });
    expect(q.rules.some((r) => r.kind === BackupRuleKind.MONTHLY_SAMPLE)).toBe(false);
  });

  describe('deriveJobSchedule (external dumps): the same ladder and the same objectives checks', () => {
    test.each<[Duration, string]>([
      [Duration.minutes(15), 'rate(15 minutes)'],
      [Duration.minutes(59), 'rate(30 minutes)'],
      [Duration.hours(1), 'rate(1 hour)'],
      [Duration.hours(5), 'rate(4 hours)'],
      [Duration.hours(24), 'rate(1 day)'],
      [Duration.days(7), 'rate(7 days)'],
    ])('RPO %s → %s (never longer than the RPO)', (rpo, expression) => {
      const s = BackupPolicyDerivation.deriveJobSchedule({ objectives: { rpo, rto: Duration.hours(4) } });
      expect(s.expression).toBe(expression);
      expect(s.interval.toMinutes()).toBeLessThanOrEqual(rpo.toMinutes());
    });

    test.each<[string, Parameters<typeof BackupPolicyDerivation.deriveJobSchedule>[0], RegExp]>([
      ['an RPO below the shortest interval', { objectives: { rpo: Duration.minutes(10), rto: Duration.hours(1) } }, /objectives.rpo is 10 minutes, but this job runs at most every 15 minutes/],
      ['an RPO above the maximum', { objectives: { rpo: Duration.days(8), rto: Duration.hours(1) }, maximumRpo: Duration.days(7), maximumRpoReason: 'alarm window' },
        /objectives.rpo is 8 days, above the 7 days this job supports \(alarm window\)/],
      ['an RTO below 15 minutes (same check as derive)', { objectives: { rpo: Duration.hours(1), rto: Duration.minutes(5) } }, /objectives.rto is 5 minutes: restoring from a backup takes longer than 15 minutes/],
      ['a zero RPO (same check as derive)', { objectives: { rpo: Duration.minutes(0), rto: Duration.hours(1) } }, /no backup method can guarantee zero data loss/],
    ])('refuses %s', (_name, input, message) => {
      expect(() => BackupPolicyDerivation.deriveJobSchedule(input)).toThrow(message);
    });
  });

  test('a token cold-storage setting is ignored where cold storage is unsupported', () => {
    expect(() => BackupPolicyDerivation.derive({
      objectives: RecoveryTier.STANDARD,
      environment: PRO,
      retention: { monthlySampleColdStorageAfter: Duration.days(Token.asNumber({ Ref: 'Cold' })) },
    })).not.toThrow();
  });
});
