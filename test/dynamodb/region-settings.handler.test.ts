import {
  BackupClient,
  DescribeRegionSettingsCommand,
  UpdateRegionSettingsCommand,
} from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  formatPhysicalResourceId,
  handler,
  parsePhysicalResourceId,
  RegionSettingsEvent,
} from '../../src/dynamodb/handler/region-settings';

const backup = mockClient(BackupClient);
const REGION = 'eu-west-1';

/** Region settings as DescribeRegionSettings returns them, with other services present. */
function settings(management: boolean | undefined, optIn: boolean | undefined) {
  const mgmt: Record<string, boolean> = { EFS: true, CloudFormation: false };
  const opt: Record<string, boolean> = { Aurora: true, EBS: false, RDS: true, S3: false };
  if (management !== undefined) mgmt.DynamoDB = management;
  if (optIn !== undefined) opt.DynamoDB = optIn;
  return { ResourceTypeManagementPreference: mgmt, ResourceTypeOptInPreference: opt };
}

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  props: Record<string, unknown>,
  physicalResourceId?: string,
): RegionSettingsEvent {
  return {
    RequestType: requestType,
    ResourceProperties: { ServiceToken: `arn:aws:lambda:${REGION}:123456789012:function:provider`, ...props },
    ...(physicalResourceId ? { PhysicalResourceId: physicalResourceId } : {}),
    ...(requestType === 'Update' ? { OldResourceProperties: {} } : {}),
  };
}

/** Every UpdateRegionSettings input must hold only the DynamoDB key in each map it sends. */
function expectOnlyDynamoDbKeysSent() {
  for (const call of backup.commandCalls(UpdateRegionSettingsCommand)) {
    const input = call.args[0].input;
    for (const map of [input.ResourceTypeManagementPreference, input.ResourceTypeOptInPreference]) {
      if (map !== undefined) expect(Object.keys(map)).toEqual(['DynamoDB']);
    }
  }
}

let logSpy: jest.SpyInstance;

beforeEach(() => {
  backup.reset();
  process.env.AWS_REGION = REGION;
  logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  expectOnlyDynamoDbKeysSent();
  logSpy.mockRestore();
});

describe('create', () => {
  test('enables advanced features and opts in when both were off', async () => {
    // GIVEN
    backup.on(DescribeRegionSettingsCommand).resolves(settings(false, false));
    backup.on(UpdateRegionSettingsCommand).resolves({});

    // WHEN
    const res = await handler(event('Create', { EnableDynamoDbAdvancedFeatures: 'true' }));

    // THEN
    expect(backup).toHaveReceivedCommandTimes(UpdateRegionSettingsCommand, 1);
    expect(backup).toHaveReceivedCommandWith(UpdateRegionSettingsCommand, {
      ResourceTypeManagementPreference: { DynamoDB: true },
      ResourceTypeOptInPreference: { DynamoDB: true },
    });
    expect(res.PhysicalResourceId).toBe(`backup-region-settings-dynamodb-${REGION};management=false;opt-in=false`);
    expect(res.Data).toEqual({
      PreviousDynamoDbManagement: 'false',
      PreviousDynamoDbOptIn: 'false',
      DynamoDbManagement: 'true',
      DynamoDbOptIn: 'true',
      Changed: 'true',
    });
  });

  test('sends only the management map when DynamoDB is already opted in', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(false, true));
    backup.on(UpdateRegionSettingsCommand).resolves({});

    await handler(event('Create', { EnableDynamoDbAdvancedFeatures: 'true' }));

    const input = backup.commandCalls(UpdateRegionSettingsCommand)[0].args[0].input;
    expect(input).toEqual({ ResourceTypeManagementPreference: { DynamoDB: true } });
  });

  test('makes no update call when the settings are already as desired', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));

    const res = await handler(event('Create', { EnableDynamoDbAdvancedFeatures: 'true' }));

    expect(backup).toHaveReceivedCommandTimes(DescribeRegionSettingsCommand, 1);
    expect(backup).not.toHaveReceivedCommand(UpdateRegionSettingsCommand);
    expect(res.PhysicalResourceId).toBe(`backup-region-settings-dynamodb-${REGION};management=true;opt-in=true`);
    expect(res.Data).toMatchObject({ PreviousDynamoDbManagement: 'true', PreviousDynamoDbOptIn: 'true', Changed: 'false' });
  });

  test('OptInDynamoDb=false leaves the opt-in preference untouched', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(false, false));
    backup.on(UpdateRegionSettingsCommand).resolves({});

    const res = await handler(event('Create', { EnableDynamoDbAdvancedFeatures: 'true', OptInDynamoDb: 'false' }));

    const input = backup.commandCalls(UpdateRegionSettingsCommand)[0].args[0].input;
    expect(input).toEqual({ ResourceTypeManagementPreference: { DynamoDB: true } });
    expect(res.Data).toMatchObject({ DynamoDbManagement: 'true', DynamoDbOptIn: 'false' });
  });

  test('records keys missing from DescribeRegionSettings as unset', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(undefined, true));
    backup.on(UpdateRegionSettingsCommand).resolves({});

    const res = await handler(event('Create', { EnableDynamoDbAdvancedFeatures: 'true' }));

    expect(res.PhysicalResourceId).toBe(`backup-region-settings-dynamodb-${REGION};management=unset;opt-in=true`);
    expect(res.Data).toMatchObject({ PreviousDynamoDbManagement: 'unset' });
  });

  test('accepts JSON booleans as well as strings', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));
    backup.on(UpdateRegionSettingsCommand).resolves({});

    await handler(event('Create', { EnableDynamoDbAdvancedFeatures: false, OptInDynamoDb: true, RestoreOnDelete: false }));

    expect(backup).toHaveReceivedCommandWith(UpdateRegionSettingsCommand, { ResourceTypeManagementPreference: { DynamoDB: false } });
  });
});

describe('update', () => {
  const physicalId = `backup-region-settings-dynamodb-${REGION};management=false;opt-in=false`;

  test('toggling off disables management and keeps the physical id and the captured values', async () => {
    // GIVEN the resource enabled the features at create
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));
    backup.on(UpdateRegionSettingsCommand).resolves({});

    // WHEN
    const res = await handler(event('Update', { EnableDynamoDbAdvancedFeatures: 'false' }, physicalId));

    // THEN
    expect(backup).toHaveReceivedCommandTimes(UpdateRegionSettingsCommand, 1);
    expect(backup).toHaveReceivedCommandWith(UpdateRegionSettingsCommand, { ResourceTypeManagementPreference: { DynamoDB: false } });
    expect(backup.commandCalls(UpdateRegionSettingsCommand)[0].args[0].input.ResourceTypeOptInPreference).toBeUndefined();
    expect(res.PhysicalResourceId).toBe(physicalId);
    expect(res.Data).toEqual({
      PreviousDynamoDbManagement: 'false',
      PreviousDynamoDbOptIn: 'false',
      DynamoDbManagement: 'false',
      DynamoDbOptIn: 'true',
      Changed: 'true',
    });
  });

  test('toggling back on enables management again', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(false, true));
    backup.on(UpdateRegionSettingsCommand).resolves({});

    const res = await handler(event('Update', { EnableDynamoDbAdvancedFeatures: 'true' }, physicalId));

    expect(backup).toHaveReceivedCommandWith(UpdateRegionSettingsCommand, { ResourceTypeManagementPreference: { DynamoDB: true } });
    expect(res.PhysicalResourceId).toBe(physicalId);
  });

  test('an unreadable physical id is replaced by one that carries the current values', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));

    const res = await handler(event('Update', { EnableDynamoDbAdvancedFeatures: 'true' }, 'legacy-id'));

    expect(res.PhysicalResourceId).toBe(`backup-region-settings-dynamodb-${REGION};management=true;opt-in=true`);
    expect(backup).not.toHaveReceivedCommand(UpdateRegionSettingsCommand);
  });
});

describe('delete', () => {
  test('restores the values captured at create', async () => {
    // GIVEN both were off before the stack enabled them
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));
    backup.on(UpdateRegionSettingsCommand).resolves({});
    const physicalId = `backup-region-settings-dynamodb-${REGION};management=false;opt-in=false`;

    // WHEN
    const res = await handler(event('Delete', { EnableDynamoDbAdvancedFeatures: 'true' }, physicalId));

    // THEN
    expect(backup).toHaveReceivedCommandTimes(UpdateRegionSettingsCommand, 1);
    expect(backup).toHaveReceivedCommandWith(UpdateRegionSettingsCommand, {
      ResourceTypeManagementPreference: { DynamoDB: false },
      ResourceTypeOptInPreference: { DynamoDB: false },
    });
    expect(res.PhysicalResourceId).toBe(physicalId);
  });

  test('sends nothing when the region is already in the captured state', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));

    await handler(event('Delete', { EnableDynamoDbAdvancedFeatures: 'true' }, `backup-region-settings-dynamodb-${REGION};management=true;opt-in=true`));

    expect(backup).not.toHaveReceivedCommand(UpdateRegionSettingsCommand);
  });

  test('does not restore values captured as unset', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));
    backup.on(UpdateRegionSettingsCommand).resolves({});

    await handler(event('Delete', { EnableDynamoDbAdvancedFeatures: 'true' }, `backup-region-settings-dynamodb-${REGION};management=unset;opt-in=false`));

    const input = backup.commandCalls(UpdateRegionSettingsCommand)[0].args[0].input;
    expect(input).toEqual({ ResourceTypeOptInPreference: { DynamoDB: false } });
  });

  test('does not restore the opt-in when OptInDynamoDb=false (the resource never managed it)', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));
    backup.on(UpdateRegionSettingsCommand).resolves({});

    await handler(event(
      'Delete',
      { EnableDynamoDbAdvancedFeatures: 'true', OptInDynamoDb: 'false' },
      `backup-region-settings-dynamodb-${REGION};management=false;opt-in=false`,
    ));

    const input = backup.commandCalls(UpdateRegionSettingsCommand)[0].args[0].input;
    expect(input).toEqual({ ResourceTypeManagementPreference: { DynamoDB: false } });
  });

  test('RestoreOnDelete=false makes no API call', async () => {
    const physicalId = `backup-region-settings-dynamodb-${REGION};management=false;opt-in=false`;

    const res = await handler(event('Delete', { EnableDynamoDbAdvancedFeatures: 'true', RestoreOnDelete: 'false' }, physicalId));

    expect(backup).not.toHaveReceivedCommand(DescribeRegionSettingsCommand);
    expect(backup).not.toHaveReceivedCommand(UpdateRegionSettingsCommand);
    expect(res.PhysicalResourceId).toBe(physicalId);
  });

  test('an unreadable physical id is a no-op', async () => {
    const res = await handler(event('Delete', { EnableDynamoDbAdvancedFeatures: 'true' }, 'something-else'));

    expect(backup).not.toHaveReceivedCommand(UpdateRegionSettingsCommand);
    expect(res.PhysicalResourceId).toBe('something-else');
  });

  test('an API error on restore fails the delete with the error name', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));
    backup.on(UpdateRegionSettingsCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));

    await expect(handler(event('Delete', {}, `backup-region-settings-dynamodb-${REGION};management=false;opt-in=true`)))
      .rejects.toThrow(/UpdateRegionSettings failed \(AccessDeniedException\): not allowed/);
  });
});

describe('errors', () => {
  test('AccessDeniedException from UpdateRegionSettings names the error and the missing permission', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(false, true));
    backup.on(UpdateRegionSettingsCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: backup:UpdateRegionSettings'), { name: 'AccessDeniedException' }),
    );

    await expect(handler(event('Create', { EnableDynamoDbAdvancedFeatures: 'true' })))
      .rejects.toThrow(/AWS Backup UpdateRegionSettings failed \(AccessDeniedException\): User is not authorized.*needs backup:UpdateRegionSettings/);
  });

  test('AccessDeniedException from DescribeRegionSettings fails before any update', async () => {
    backup.on(DescribeRegionSettingsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    await expect(handler(event('Create', { EnableDynamoDbAdvancedFeatures: 'true' })))
      .rejects.toThrow(/DescribeRegionSettings failed \(AccessDeniedException\)/);
    expect(backup).not.toHaveReceivedCommand(UpdateRegionSettingsCommand);
  });

  test.each([
    ['EnableDynamoDbAdvancedFeatures', { EnableDynamoDbAdvancedFeatures: 'maybe' }],
    ['OptInDynamoDb', { EnableDynamoDbAdvancedFeatures: 'true', OptInDynamoDb: 'yes' }],
    ['RestoreOnDelete', { EnableDynamoDbAdvancedFeatures: 'true', RestoreOnDelete: 'TRUE ' }],
  ])('a bad value of %s is rejected before any API call', async (name, props) => {
    await expect(handler(event('Create', props))).rejects.toThrow(new RegExp(`Invalid value for property ${name}: .*expected "true" or "false"`));
    expect(backup).not.toHaveReceivedCommand(DescribeRegionSettingsCommand);
  });

  test('EnableDynamoDbAdvancedFeatures is required', async () => {
    await expect(handler(event('Create', {}))).rejects.toThrow(/Missing required property EnableDynamoDbAdvancedFeatures/);
  });

  test('a bad RestoreOnDelete on delete is rejected', async () => {
    await expect(handler(event('Delete', { RestoreOnDelete: 'maybe' }, `backup-region-settings-dynamodb-${REGION};management=false;opt-in=true`)))
      .rejects.toThrow(/Invalid value for property RestoreOnDelete: "maybe"/);
  });
});

describe('physical resource id', () => {
  test('round-trips the captured values', () => {
    const id = formatPhysicalResourceId('us-gov-west-1', { management: 'unset', optIn: 'true' });
    expect(parsePhysicalResourceId(id)).toEqual({ region: 'us-gov-west-1', previous: { management: 'unset', optIn: 'true' } });
    expect(parsePhysicalResourceId('backup-region-settings-dynamodb-eu-west-1')).toBeUndefined();
  });

  test('falls back to the ServiceToken region when AWS_REGION is not set', async () => {
    delete process.env.AWS_REGION;
    const saved = process.env.AWS_DEFAULT_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));
    try {
      const res = await handler(event('Create', { EnableDynamoDbAdvancedFeatures: 'true' }));
      expect(res.PhysicalResourceId.startsWith(`backup-region-settings-dynamodb-${REGION};`)).toBe(true);
    } finally {
      if (saved !== undefined) process.env.AWS_DEFAULT_REGION = saved;
    }
  });

  test('logs one JSON line per invocation', async () => {
    backup.on(DescribeRegionSettingsCommand).resolves(settings(true, true));

    await handler(event('Create', { EnableDynamoDbAdvancedFeatures: 'true' }));

    expect(logSpy).toHaveBeenCalledTimes(1);
    expect(JSON.parse(logSpy.mock.calls[0][0])).toMatchObject({ handler: 'backup-region-settings', requestType: 'Create', outcome: 'success' });
  });
});
