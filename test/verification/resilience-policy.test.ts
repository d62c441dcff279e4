import { Construct } from 'constructs';
import { DeploymentEnvironment, RecoveryTier } from '../../src/core';
import { IDrSecondarySite } from '../../src/foundation/dr-site';
import { ResilienceHubPolicy } from '../../src/verification';
import { synthTemplate, testStack } from '../support/app';

test('objectives in seconds for software, hardware and AZ; Region only with a DR site; tier from the RTO', () => {
  const stack = testStack();
  const site = Object.assign(new Construct(stack, 'Site'), { siteName: 'dr', region: 'eu-central-1', account: '111111111111' }) as unknown as IDrSecondarySite;
  new ResilienceHubPolicy(stack, 'Critical', { objectives: RecoveryTier.CRITICAL, environment: DeploymentEnvironment.PRO, drSite: site, policyName: 'orders' });
  new ResilienceHubPolicy(stack, 'Standard', { objectives: RecoveryTier.STANDARD, environment: DeploymentEnvironment.PRO });
  new ResilienceHubPolicy(stack, 'Dev', { objectives: RecoveryTier.CRITICAL, environment: DeploymentEnvironment.DEV });
  const t = synthTemplate(stack);
  const critical = { RpoInSecs: 900, RtoInSecs: 3600 };
  t.hasResourceProperties('AWS::ResilienceHub::ResiliencyPolicy', {
    PolicyName: 'orders', Tier: 'MissionCritical', Policy: { Software: critical, Hardware: critical, AZ: critical, Region: critical },
  });
  const standard = { RpoInSecs: 86400, RtoInSecs: 28800 };
  t.hasResourceProperties('AWS::ResilienceHub::ResiliencyPolicy', { Tier: 'Important', Policy: { Software: standard, Hardware: standard, AZ: standard } });
  t.hasResourceProperties('AWS::ResilienceHub::ResiliencyPolicy', { Tier: 'NonCritical' });
});
