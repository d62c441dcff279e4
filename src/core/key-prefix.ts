import { Token } from 'aws-cdk-lib';
import { BackupDrConfigError } from './validation';

/**
 * @internal The one rule for S3 key prefixes across the library (archives, exports, dump
 * destinations): a key prefix must not start with "/", must end with "/" (so "logs/" does not
 * also match "logs-old/"), and contains no "*" or "//". The empty string means the whole bucket.
 * Tokens are skipped (checked by S3 at deploy time).
 *
 * Throws a BackupDrConfigError naming `prop`, the value and the fix; call it inside `inScope` so
 * the message also carries the construct path.
 */
export function checkKeyPrefix(prefix: string, prop: string): void {
  if (prefix === undefined || prefix === null) return;
  if (typeof prefix !== 'string') {
    throw new BackupDrConfigError(`${prop} is ${JSON.stringify(prefix)}, but a key prefix is a string such as 'archive/'; pass a string`);
  }
  if (prefix === '' || Token.isUnresolved(prefix)) return;
  if (!isValidKeyPrefix(prefix)) {
    throw new BackupDrConfigError(
      `${prop} is '${prefix}', but a key prefix must not start with "/", must end with "/" (so "logs/" does not also match "logs-old/") ` +
      `and has no "*" or "//"; e.g. '${suggestKeyPrefix(prefix)}', or '' for the whole bucket`,
    );
  }
}

/** @internal Whether a concrete prefix follows the rule of `checkKeyPrefix` ('' is valid). */
export function isValidKeyPrefix(prefix: string): boolean {
  if (prefix === '') return true;
  return !prefix.startsWith('/') && prefix.endsWith('/') && !prefix.includes('*') && !prefix.includes('//');
}

/** @internal A valid prefix close to the given one, for messages ('archive/' when nothing is left). */
export function suggestKeyPrefix(prefix: string): string {
  const parts = prefix.replace(/\*/g, '').split('/').filter((p) => p.length > 0);
  return parts.length ? `${parts.join('/')}/` : 'archive/';
}
