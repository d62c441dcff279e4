import { Token } from 'aws-cdk-lib';
import { checkKeyPrefix, isValidKeyPrefix } from '../../src/core/key-prefix';
import { BackupDrConfigError } from '../../src/core/validation';

// src/core/key-prefix.ts: the one rule for key prefixes of the library (S3 archives, exports, dump destinations).
describe('checkKeyPrefix', () => {
  test.each([
    ['', 'the whole bucket'],
    ['archive/', 'one level'],
    ['db/crm/2024/', 'several levels'],
    ['a.b-c_d/', 'punctuation S3 allows'],
  ])('accepts %j (%s)', (prefix) => {
    expect(() => checkKeyPrefix(prefix, 'prefix')).not.toThrow();
    expect(isValidKeyPrefix(prefix)).toBe(true);
  });

  test('skips tokens (S3 checks them at deploy time)', () => {
    expect(() => checkKeyPrefix(Token.asString({ Ref: 'Prefix' }), 'prefix')).not.toThrow();
  });

  test.each([
    ['archive', 'must end with "/"', 'archive/'],
    ['/archive/', 'must not start with "/"', 'archive/'],
    ['data/*/', 'has no "\\*"', 'data/'],
    ['data//old/', 'no "\\*" or "//"', 'data/old/'],
    ['/', 'must not start with "/"', 'archive/'],
  ])('refuses %j, naming the prop, the value and a valid prefix', (prefix, rule, suggestion) => {
    const run = () => checkKeyPrefix(prefix, 'snapshotExport.prefix');
    expect(run).toThrow(BackupDrConfigError);
    expect(run).toThrow(new RegExp(`^snapshotExport\\.prefix is '${prefix.replace(/[*/]/g, (c) => `\\${c}`)}', but a key prefix .*${rule}.*e\\.g\\. '${suggestion.replace(/\//g, '\\/')}'`));
    expect(isValidKeyPrefix(prefix)).toBe(false);
  });

  test('a value that is not a string is a clear error', () => {
    expect(() => checkKeyPrefix(42 as unknown as string, 'prefix')).toThrow(/^prefix is 42, but a key prefix is a string such as 'archive\/'/);
  });
});
