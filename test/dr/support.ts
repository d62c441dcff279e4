import { App, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DrStrategy } from '../../src/core/dr-strategy';
import { DeploymentEnvironment } from '../../src/core/environment';
import { DrSecondarySite, DrSecondarySiteProps } from '../../src/dr/dr-secondary-site';
import { TEST_CONTEXT } from '../support/app';

export const PRIMARY = { account: '111111111111', region: 'eu-west-1' };
export const DR = { account: '111111111111', region: 'eu-central-1' };
export const DR_OTHER_ACCOUNT = { account: '222222222222', region: 'eu-central-1' };

/** A two-region app: DR stack with a site, primary stack with a scope for the protecting construct. */
export function twoRegions(strategy?: DrStrategy, siteProps: Partial<DrSecondarySiteProps> = {}, drEnv = DR) {
  const app = new App({ context: TEST_CONTEXT });
  const drStack = new Stack(app, 'Dr', { env: drEnv });
  const site = new DrSecondarySite(drStack, 'Site', { environment: DeploymentEnvironment.PRO, strategy, ...siteProps });
  const primary = new Stack(app, 'Primary', { env: PRIMARY });
  const scope = new Construct(primary, 'Protection');
  return { app, drStack, site, primary, scope };
}
