/**
 * `onEvent` handler (aws-cdk-lib `custom_resources.Provider` framework) that turns on AWS Backup's
 * advanced DynamoDB backup features in the current account and Region.
 *
 * The setting is a Region setting of AWS Backup that CloudFormation has no resource for:
 * `UpdateRegionSettings` with `ResourceTypeManagementPreference: { DynamoDB: true }` (full AWS Backup
 * management: cold storage, cross-account/cross-Region copies, vault encryption) and
 * `ResourceTypeOptInPreference: { DynamoDB: true }` (AWS Backup protects DynamoDB at all).
 *
 * Contract (resource properties; CloudFormation turns every value into a string):
 * - `EnableDynamoDbAdvancedFeatures` (required): "true" | "false". Desired value of
 *   `ResourceTypeManagementPreference.DynamoDB`.
 * - `OptInDynamoDb` (optional, default "true"): "true" makes sure `ResourceTypeOptInPreference.DynamoDB`
 *   is true. "false" leaves the opt-in preference as it is: this handler never opts DynamoDB *out*, which
 *   would silently stop AWS Backup protecting every DynamoDB table of the Region, including tables of
 *   other stacks.
 * - `RestoreOnDelete` (optional, default "true"): on delete, put back the values captured at create.
 *
 * Behaviour:
 * - Idempotent: `DescribeRegionSettings` first; `UpdateRegionSettings` only when a DynamoDB value differs,
 *   and then only with the DynamoDB key of the map(s) that change. AWS documents enabling the feature
 *   with exactly these partial maps (`--resource-type-opt-in-preference DynamoDB=true
 *   --resource-type-management-preference DynamoDB=true`), which leaves the other resource types alone;
 *   other services' keys are never sent.
 * - Previous values: on delete CloudFormation only sends the current properties, never the `Data` returned
 *   earlier, so the values found at create are encoded in the physical resource id
 *   (`backup-region-settings-dynamodb-<region>;management=<v>;opt-in=<v>`, `<v>` = true | false | unset).
 *   Updates always return the physical id they received, so the id never changes, CloudFormation never
 *   sends a replacement delete, and a delete restores the state from before the first create.
 * - Delete with `RestoreOnDelete` true restores `ResourceTypeManagementPreference.DynamoDB`, and
 *   `ResourceTypeOptInPreference.DynamoDB` when `OptInDynamoDb` is true (the keys this resource manages),
 *   again only when they differ. Values captured as `unset` are not restored. API errors fail the delete
 *   with a clear message; an unreadable physical id (resource created by another version) is a no-op.
 * - Errors name the API call and the AWS error name, e.g. `UpdateRegionSettings failed (AccessDeniedException): ...`.
 *
 * Needs `backup:DescribeRegionSettings` and `backup:UpdateRegionSettings` (resource `*`).
 */
// The AWS SDK is bundled into the asset by esbuild (`npx projen bundle`), so it is a devDependency.
// eslint-disable-next-line import/no-extraneous-dependencies
import { BackupClient, DescribeRegionSettingsCommand, UpdateRegionSettingsCommand } from '@aws-sdk/client-backup';

/** AWS Backup's key for DynamoDB in the region-settings maps. */
export const DYNAMODB_RESOURCE_TYPE = 'DynamoDB';
/** Prefix of the physical resource id. */
export const PHYSICAL_ID_PREFIX = 'backup-region-settings-dynamodb-';

const backup = new BackupClient({});

/** A preference value as captured from DescribeRegionSettings: `unset` when the key was absent. */
export type PreferenceValue = 'true' | 'false' | 'unset';

/** The part of the provider framework's OnEventRequest this handler reads. */
export interface RegionSettingsEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
  readonly ServiceToken?: string;
}

/** Attributes returned to CloudFormation (`Fn::GetAtt`); all strings. */
export interface RegionSettingsData {
  /** Value of ResourceTypeManagementPreference.DynamoDB before this resource first changed it (restored on delete). */
  readonly PreviousDynamoDbManagement: PreferenceValue;
  /** Value of ResourceTypeOptInPreference.DynamoDB before this resource first changed it (restored on delete). */
  readonly PreviousDynamoDbOptIn: PreferenceValue;
  /** ResourceTypeManagementPreference.DynamoDB after this event. */
  readonly DynamoDbManagement: PreferenceValue;
  /** ResourceTypeOptInPreference.DynamoDB after this event. */
  readonly DynamoDbOptIn: PreferenceValue;
  /** "true" when this event called UpdateRegionSettings. */
  readonly Changed: 'true' | 'false';
}

export interface RegionSettingsResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: RegionSettingsData;
}

interface DynamoDbSettings {
  readonly management: PreferenceValue;
  readonly optIn: PreferenceValue;
}

interface PreferenceUpdate {
  ResourceTypeManagementPreference?: Record<string, boolean>;
  ResourceTypeOptInPreference?: Record<string, boolean>;
}

export async function handler(event: RegionSettingsEvent): Promise<RegionSettingsResponse> {
  const log: Record<string, unknown> = { handler: 'backup-region-settings', requestType: event?.RequestType };
  try {
    const response = await dispatch(event, log);
    log.outcome = 'success';
    log.physicalResourceId = response.PhysicalResourceId;
    return response;
  } catch (e) {
    log.outcome = 'failed';
    log.error = e instanceof Error ? e.message : String(e);
    throw e;
  } finally {
    console.log(JSON.stringify(log));
  }
}

async function dispatch(event: RegionSettingsEvent, log: Record<string, unknown>): Promise<RegionSettingsResponse> {
  if (!event || typeof event !== 'object') {
    throw new Error('Invalid custom resource event: expected an object');
  }
  const props = event.ResourceProperties ?? {};
  switch (event.RequestType) {
    case 'Create':
      return apply(event, props, undefined, log);
    case 'Update':
      return apply(event, props, event.PhysicalResourceId, log);
    case 'Delete':
      return remove(event, props, log);
    default:
      throw new Error(`Unsupported RequestType ${JSON.stringify((event as { RequestType?: unknown }).RequestType)}; expected Create, Update or Delete`);
  }
}

async function apply(
  event: RegionSettingsEvent,
  props: Record<string, unknown>,
  existingPhysicalId: string | undefined,
  log: Record<string, unknown>,
): Promise<RegionSettingsResponse> {
  const enable = parseBoolean(props, 'EnableDynamoDbAdvancedFeatures');
  const optIn = parseBoolean(props, 'OptInDynamoDb', true);
  parseBoolean(props, 'RestoreOnDelete', true); // validate now rather than at delete time
  const region = resolveRegion(event);
  log.region = region;
  log.desired = { management: enable, optIn: optIn ? true : 'unchanged' };

  const current = await describe();
  log.before = current;

  // Keep the physical id of an existing resource: it carries the values to restore on delete, and a new
  // id would make CloudFormation delete (restore) the "old" resource right after this update.
  const parsed = existingPhysicalId !== undefined ? parsePhysicalResourceId(existingPhysicalId) : undefined;
  const previous: DynamoDbSettings = parsed?.previous ?? current;
  const physicalResourceId = parsed ? existingPhysicalId! : formatPhysicalResourceId(region, current);

  const update: PreferenceUpdate = {};
  if (asBoolean(current.management) !== enable) {
    update.ResourceTypeManagementPreference = { [DYNAMODB_RESOURCE_TYPE]: enable };
  }
  if (optIn && current.optIn !== 'true') {
    update.ResourceTypeOptInPreference = { [DYNAMODB_RESOURCE_TYPE]: true };
  }
  const after = await send(update, current);
  log.after = after;

  return {
    PhysicalResourceId: physicalResourceId,
    Data: {
      PreviousDynamoDbManagement: previous.management,
      PreviousDynamoDbOptIn: previous.optIn,
      DynamoDbManagement: after.management,
      DynamoDbOptIn: after.optIn,
      Changed: hasChanges(update) ? 'true' : 'false',
    },
  };
}

async function remove(
  event: RegionSettingsEvent,
  props: Record<string, unknown>,
  log: Record<string, unknown>,
): Promise<RegionSettingsResponse> {
  const physicalResourceId = event.PhysicalResourceId ?? '';
  const restore = parseBoolean(props, 'RestoreOnDelete', true);
  log.restoreOnDelete = restore;
  if (!restore) {
    return { PhysicalResourceId: physicalResourceId };
  }
  const optIn = parseBoolean(props, 'OptInDynamoDb', true);
  const parsed = parsePhysicalResourceId(physicalResourceId);
  if (!parsed) {
    log.note = 'physical resource id carries no previous values; nothing to restore';
    return { PhysicalResourceId: physicalResourceId };
  }
  log.region = parsed.region;
  log.restoreTo = parsed.previous;

  const current = await describe();
  log.before = current;
  const update: PreferenceUpdate = {};
  if (parsed.previous.management !== 'unset' && asBoolean(current.management) !== asBoolean(parsed.previous.management)) {
    update.ResourceTypeManagementPreference = { [DYNAMODB_RESOURCE_TYPE]: asBoolean(parsed.previous.management) };
  }
  if (optIn && parsed.previous.optIn !== 'unset' && asBoolean(current.optIn) !== asBoolean(parsed.previous.optIn)) {
    update.ResourceTypeOptInPreference = { [DYNAMODB_RESOURCE_TYPE]: asBoolean(parsed.previous.optIn) };
  }
  log.after = await send(update, current);
  return { PhysicalResourceId: physicalResourceId };
}

async function describe(): Promise<DynamoDbSettings> {
  try {
    const out = await backup.send(new DescribeRegionSettingsCommand({}));
    return {
      management: toPreference(out.ResourceTypeManagementPreference?.[DYNAMODB_RESOURCE_TYPE]),
      optIn: toPreference(out.ResourceTypeOptInPreference?.[DYNAMODB_RESOURCE_TYPE]),
    };
  } catch (e) {
    throw apiError('DescribeRegionSettings', e);
  }
}

/** Calls UpdateRegionSettings when `update` holds a change; returns the resulting DynamoDB values. */
async function send(update: PreferenceUpdate, current: DynamoDbSettings): Promise<DynamoDbSettings> {
  if (!hasChanges(update)) {
    return current;
  }
  try {
    await backup.send(new UpdateRegionSettingsCommand(update));
  } catch (e) {
    throw apiError('UpdateRegionSettings', e);
  }
  const management = update.ResourceTypeManagementPreference?.[DYNAMODB_RESOURCE_TYPE];
  const optIn = update.ResourceTypeOptInPreference?.[DYNAMODB_RESOURCE_TYPE];
  return {
    management: management === undefined ? current.management : toPreference(management),
    optIn: optIn === undefined ? current.optIn : toPreference(optIn),
  };
}

function hasChanges(update: PreferenceUpdate): boolean {
  return update.ResourceTypeManagementPreference !== undefined || update.ResourceTypeOptInPreference !== undefined;
}

function apiError(operation: string, e: unknown): Error {
  const name = (e as { name?: unknown })?.name;
  const errorName = typeof name === 'string' && name !== '' ? name : 'UnknownError';
  const message = e instanceof Error ? e.message : String(e);
  let hint = '';
  if (errorName === 'AccessDeniedException' || errorName === 'AccessDenied') {
    hint = ` The custom resource's role needs backup:${operation} on resource "*".`;
  } else if (errorName === 'InvalidParameterValueException' && operation === 'UpdateRegionSettings') {
    hint = ' AWS Backup may not support DynamoDB (or its advanced features) in this Region; check DescribeRegionSettings.';
  }
  return new Error(`AWS Backup ${operation} failed (${errorName}): ${message}.${hint}`, { cause: e });
}

/**
 * Reads a "true"/"false" property (CloudFormation sends strings; JSON booleans are accepted too).
 * Missing (or empty) values take `defaultValue`; without a default the property is required.
 */
export function parseBoolean(props: Record<string, unknown>, name: string, defaultValue?: boolean): boolean {
  const value = props[name];
  if (value === undefined || value === null || value === '') {
    if (defaultValue === undefined) {
      throw new Error(`Missing required property ${name}: expected "true" or "false"`);
    }
    return defaultValue;
  }
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`Invalid value for property ${name}: ${JSON.stringify(value)}; expected "true" or "false"`);
}

function toPreference(value: boolean | undefined): PreferenceValue {
  if (value === undefined) return 'unset';
  return value ? 'true' : 'false';
}

/** `unset` counts as false: AWS Backup does not manage / protect the resource type. */
function asBoolean(value: PreferenceValue): boolean {
  return value === 'true';
}

function resolveRegion(event: RegionSettingsEvent): string {
  const fromEnv = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  // arn:<partition>:lambda:<region>:<account>:function:<name>
  const token = event.ServiceToken ?? (event.ResourceProperties?.ServiceToken as string | undefined);
  const region = typeof token === 'string' ? token.split(':')[3] : undefined;
  if (region) return region;
  throw new Error('Cannot determine the AWS Region: AWS_REGION is not set and ServiceToken is not an ARN');
}

/** `backup-region-settings-dynamodb-<region>;management=<v>;opt-in=<v>` */
export function formatPhysicalResourceId(region: string, previous: DynamoDbSettings): string {
  return `${PHYSICAL_ID_PREFIX}${region};management=${previous.management};opt-in=${previous.optIn}`;
}

const PHYSICAL_ID_PATTERN = /^backup-region-settings-dynamodb-([a-z0-9-]+);management=(true|false|unset);opt-in=(true|false|unset)$/;

export function parsePhysicalResourceId(id: string): { region: string; previous: DynamoDbSettings } | undefined {
  const match = PHYSICAL_ID_PATTERN.exec(id);
  if (!match) return undefined;
  return {
    region: match[1],
    previous: { management: match[2] as PreferenceValue, optIn: match[3] as PreferenceValue },
  };
}
