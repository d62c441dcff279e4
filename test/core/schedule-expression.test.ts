import { BackupPolicyDerivation, DeploymentEnvironment, RecoveryTier } from '../../src/core';
import { ScheduleExpression } from '../../src/core/schedule-expression';

const H = 60;
const D = 24 * H;

describe('ScheduleExpression.parse', () => {
  test.each<[string, number, number]>([
    ['rate(15 minutes)', 15, 15],
    ['rate(1 hour)', H, H],
    ['rate(7 days)', 7 * D, 7 * D],
    ['cron(0 * * * ? *)', H, H],
    ['cron(0 0/12 * * ? *)', 12 * H, 12 * H],
    ['cron(0 5/1 ? * * *)', 5 * H + H, H], // 05:00..23:00 hourly: the night gap is 6 h
    ['cron(0 3 * * ? *)', D, D],
    ['cron(0 3 ? * SUN *)', 7 * D, 7 * D],
    ['cron(0 3 ? * MON-FRI *)', 3 * D, D],
    ['cron(0 3 1 * ? *)', 31 * D, 28 * D],
    ['cron(0 5 1 1 ? *)', 366 * D, 365 * D],
    ['cron(0 3 L * ? *)', 31 * D, 28 * D],
    ['cron(0 3 ? * 2#1 *)', 35 * D, 28 * D],
    ['cron(30 1,13 * * ? *)', 12 * H, 12 * H],
  ])('%s: longest gap %d min, shortest %d min', (expr, max, min) => {
    const p = ScheduleExpression.parse(expr);
    expect(p.maxInterval.toMinutes()).toBe(max);
    expect(p.minInterval.toMinutes()).toBe(min);
  });

  test('every schedule the derivation produces is read with the interval it declares', () => {
    for (const objectives of [RecoveryTier.CRITICAL, RecoveryTier.STANDARD, RecoveryTier.ARCHIVE]) {
      for (const r of BackupPolicyDerivation.derive({ objectives, environment: DeploymentEnvironment.PRO }).rules) {
        if (r.ruleName.endsWith('Sample') || r.enableContinuousBackup) continue;
        expect(ScheduleExpression.maxIntervalMinutes(r.scheduleExpression)).toBe(r.interval.toMinutes());
      }
    }
  });

  test.each([
    ['cron(0 3 * *)', /6 fields/],
    ['cron(0 3 1 * MON *)', /must be \?/],
    ['cron(0 25 * * ? *)', /hours field has 25/],
    ['cron(0 3 * FOO ? *)', /month field has "FOO"/],
    ['every day', /cannot be read/],
    ['cron(0 3 * * ? 2020)', /no run/],
  ])('%s is refused', (expr, msg) => {
    expect(() => ScheduleExpression.parse(expr)).toThrow(msg);
  });
});
