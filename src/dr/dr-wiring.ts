import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { registerDrWorkload } from './dr-secondary-site';
import { DrResourceType, DrStrategy, DrStrategyTable, describeType } from '../core/dr-strategy';
import { DeploymentEnvironment } from '../core/environment';
import { RecoveryObjectives } from '../core/recovery-objectives';
import { BackupDrConfigError } from '../core/validation';
import { IDrSecondarySite } from '../foundation/dr-site';

/** What a protection construct tells the DR site about one kind of resource it protects. */
export interface DrWiringRequest {
  /** The DR site (the construct's `drSite` prop). */
  readonly drSite: IDrSecondarySite;
  /** Environment of the protected data. */
  readonly environment: DeploymentEnvironment;
  /** Declared objectives of the protected data. */
  readonly objectives: RecoveryObjectives;
  /** Kind of resource. */
  readonly resourceType: DrResourceType;
}

/** Result of `wireDrSite`. */
export interface DrWiring {
  /** Strategy the resource is wired for: the site's, or the cheapest meeting the objectives. */
  readonly strategy: DrStrategy;
  /** Whether the site is in another account than the protected resource. */
  readonly crossAccount: boolean;
  /** Account of the protected resource. */
  readonly sourceAccount: string;
  /** Region of the protected resource. */
  readonly sourceRegion: string;
}

/**
 * @internal The checks every construct runs before wiring itself to a DR site: explicit env of the primary
 * stack, a site in another region, the same environment, copies allowed from this account, and the strategy
 * meeting the objectives (synth error naming the bound and the strategies that would). Registers the
 * workload for the site's strategy report. Call inside `inScope(construct, ...)`.
 */
export function wireDrSite(scope: IConstruct, request: DrWiringRequest): DrWiring {
  const { drSite: site } = request;
  const stack = Stack.of(scope);
  if (Token.isUnresolved(stack.region) || Token.isUnresolved(stack.account)) {
    throw new BackupDrConfigError(
      `drSite: stack ${stack.stackName} has no explicit env (region ${JSON.stringify(stack.resolve(stack.region))}, account ${JSON.stringify(stack.resolve(stack.account))}), ` +
      'so the library cannot tell whether the DR site is in another region or account; give the stack env: { account, region }',
    );
  }
  if (site.region === stack.region) {
    throw new BackupDrConfigError(
      `drSite: the DR site ${site.node.path} is in ${site.region}, the region of the protected resources: a regional outage would take both; ` +
      'deploy the DrSecondarySite in a stack of another region',
    );
  }
  if (site.environment !== request.environment) {
    throw new BackupDrConfigError(
      `drSite: the DR site ${site.node.path} serves ${site.environment}, but this data is ${request.environment}: its vault lock, ` +
      `retention and access follow its environment; use a DrSecondarySite with environment: DeploymentEnvironment.${envKey(request.environment)}`,
    );
  }
  const crossAccount = site.account !== stack.account;
  if (crossAccount && !site.organizationId && !(site.sourceAccounts ?? []).includes(stack.account)) {
    throw new BackupDrConfigError(
      `drSite: the DR site ${site.node.path} is in account ${site.account} and does not accept copies from account ${stack.account} ` +
      `(sourceAccounts: ${JSON.stringify(site.sourceAccounts ?? [])}, no organizationId); add '${stack.account}' to the site's sourceAccounts ` +
      'or set its organizationId (with cross-account backup turned on in the management account)',
    );
  }
  const workload = { path: scope.node.path, resourceType: request.resourceType, objectives: request.objectives };
  DrStrategyTable.check(workload, site.strategy);
  registerDrWorkload(site, workload);
  return {
    strategy: site.strategy ?? DrStrategyTable.cheapest([workload]),
    crossAccount,
    sourceAccount: stack.account,
    sourceRegion: stack.region,
  };
}

/** @internal Refuses RDS/Aurora copies that are cross-account and cross-Region at once (AWS Backup cannot automate them). */
export function checkRdsCopyTarget(resourceType: DrResourceType, wiring: DrWiring, site: IDrSecondarySite): void {
  if (!wiring.crossAccount) return;
  throw new BackupDrConfigError(
    `drSite: ${describeType(resourceType)} copies to the DR site ${site.node.path} would go to another account (${site.account}) and another ` +
    `Region (${site.region}) at once, which AWS Backup does not automate for RDS and Aurora (docs.aws.amazon.com/aws-backup/latest/devguide/` +
    'recov-point-create-a-copy.html: "either cross-account or cross-Region"); protect RDS and Aurora with a DR site in this account ' +
    `(${wiring.sourceAccount}) and keep the cross-account site for DynamoDB and S3`,
  );
}

function envKey(e: DeploymentEnvironment): string {
  return Object.entries(DeploymentEnvironment).find(([, v]) => v === e)![0];
}
