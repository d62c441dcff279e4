import { Duration } from 'aws-cdk-lib';
import { DR_STRATEGIES_BY_COST, DrResourceType, DrStrategy, DrStrategyTable } from '../../src/core/dr-strategy';
import { RecoveryTier } from '../../src/core/recovery-objectives';

const { BACKUP_AND_RESTORE: BR, PILOT_LIGHT: PL, WARM_STANDBY: WS, MULTI_SITE: MS } = DrStrategy;
const w = (resourceType: DrResourceType, rpo: Duration, rto: Duration, path = 'App/Db') => ({ path, resourceType, objectives: { rpo, rto } });

describe('DrStrategyTable', () => {
  test('one cell per strategy and resource type, each with a mechanism and a source', () => {
    const cells = DrStrategyTable.all();
    expect(cells).toHaveLength(4 * Object.keys(DrResourceType).length);
    for (const c of cells) {
      expect(c.mechanism.length).toBeGreaterThan(10);
      expect(c.source).toMatch(/docs\.aws\.amazon\.com/);
    }
  });

  test('a more expensive strategy never does worse than a cheaper one, for every resource type', () => {
    for (const type of Object.values(DrResourceType)) {
      const bounds = DR_STRATEGIES_BY_COST.map((s) => DrStrategyTable.bound(s, type));
      for (let i = 1; i < bounds.length; i++) {
        expect(bounds[i].rpo.toSeconds()).toBeLessThanOrEqual(bounds[i - 1].rpo.toSeconds());
        expect(bounds[i].rto.toSeconds()).toBeLessThanOrEqual(bounds[i - 1].rto.toSeconds());
      }
    }
  });

  test.each([
    // [type, rpo, rto, cheapest]
    [DrResourceType.DYNAMODB_TABLE, Duration.hours(24), Duration.hours(8), BR],
    [DrResourceType.DYNAMODB_TABLE, Duration.minutes(15), Duration.hours(1), WS],
    [DrResourceType.RDS_INSTANCE, Duration.hours(1), Duration.hours(8), PL],
    [DrResourceType.RDS_INSTANCE, Duration.hours(3), Duration.hours(4), BR],
    [DrResourceType.S3_ARCHIVE, Duration.minutes(15), Duration.minutes(15), BR],
    [DrResourceType.AURORA_CLUSTER, Duration.hours(24), Duration.hours(8), BR],
    [DrResourceType.EXTERNAL_DATABASE, Duration.hours(2), Duration.hours(4), BR],
  ])('cheapest strategy for %s with RPO %s / RTO %s', (type, rpo, rto, expected) => {
    expect(DrStrategyTable.cheapest([w(type, rpo, rto)])).toBe(expected);
  });

  test('the cheapest strategy meeting all workloads is the most demanding single choice', () => {
    expect(DrStrategyTable.cheapest([
      w(DrResourceType.S3_ARCHIVE, Duration.hours(1), Duration.hours(1)),
      w(DrResourceType.RDS_INSTANCE, Duration.hours(1), Duration.hours(8)),
      w(DrResourceType.DYNAMODB_TABLE, Duration.hours(24), Duration.hours(8)),
    ])).toBe(PL);
    expect(DrStrategyTable.strategiesMeeting([w(DrResourceType.DYNAMODB_TABLE, Duration.minutes(15), Duration.hours(1))])).toEqual([WS, MS]);
  });

  test('the check names the objective, the bound, the mechanism and the strategies that would meet it', () => {
    expect(() => DrStrategyTable.check(w(DrResourceType.RDS_INSTANCE, Duration.hours(1), Duration.hours(8), 'App/Orders'), BR))
      .toThrow(/^drSite: objectives\.rpo 1 hour \(bound 3 hours\) of App\/Orders \(RDS instances\) cannot be met by strategy BACKUP_AND_RESTORE: AWS Backup copy actions into the DR vault; restore on failover; strategies that would: PILOT_LIGHT, WARM_STANDBY, MULTI_SITE \(set strategy on the DrSecondarySite, or omit it to pick the cheapest\)\. Source: AWS Backup/);
    expect(() => DrStrategyTable.check(w(DrResourceType.RDS_INSTANCE, Duration.minutes(15), Duration.hours(1)), MS))
      .toThrow(/objectives\.rpo 15 minutes \(bound 30 minutes\) and objectives\.rto 1 hour \(bound 4 hours\).*no strategy the library builds meets them; add a cross-region read replica/);
    expect(() => DrStrategyTable.check(w(DrResourceType.S3_ARCHIVE, Duration.minutes(5), Duration.hours(1))))
      .toThrow(/objectives\.rpo 5 minutes \(bound 15 minutes\).*S3 Replication Time Control guarantees 15 minutes/);
    expect(() => DrStrategyTable.check(w(DrResourceType.DYNAMODB_TABLE, RecoveryTier.STANDARD.rpo, RecoveryTier.STANDARD.rto), PL)).not.toThrow();
  });

  test('cheapest() refuses objectives no strategy meets', () => {
    expect(() => DrStrategyTable.cheapest([w(DrResourceType.AURORA_CLUSTER, Duration.minutes(15), Duration.hours(1), 'App/Aurora')]))
      .toThrow(/of App\/Aurora \(Aurora clusters\) cannot be met by strategy any \(best: MULTI_SITE\).*Aurora global database/);
  });
});
