import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Error raised for a configuration that cannot be deployed or cannot meet its objectives.
 * Messages name the prop, the bad value and the fix; `inScope` prefixes the construct path.
 */
export class BackupDrConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupDrConfigError';
  }
}

/** @internal Renders a duration for messages ("90 days", "15 minutes"). */
export function describeDuration(d: Duration): string {
  return d.toHumanString();
}

/**
 * @internal Returns the duration in the given unit, throwing a clear error when it is a token:
 * schedules and retention are derived at synth time, so they must be concrete.
 */
export function concreteMinutes(d: Duration, prop: string): number {
  if (d.isUnresolved()) {
    throw new BackupDrConfigError(
      `${prop} is a token (e.g. a CloudFormation parameter); schedules and retention are derived at synth time, ` +
      'so pass a concrete Duration such as Duration.hours(4)',
    );
  }
  return d.toMinutes({ integral: false });
}

/** @internal Concrete whole days, rounded up. */
export function concreteDays(d: Duration, prop: string): number {
  return Math.ceil(concreteMinutes(d, prop) / (24 * 60));
}

/** @internal Checks a concrete number (skipping tokens) lies in [min, max]. */
export function checkRange(value: number, min: number, max: number, prop: string, fix: string): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new BackupDrConfigError(`${prop} is ${value}, but must be between ${min} and ${max}; ${fix}`);
  }
}

/**
 * @internal Runs `fn` and prefixes any configuration error with the construct path,
 * so every synth-time error says where it comes from.
 */
export function inScope<T>(scope: IConstruct, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BackupDrConfigError && !e.message.startsWith(`[${scope.node.path}]`)) {
      throw new BackupDrConfigError(`[${scope.node.path}] ${e.message}`);
    }
    throw e;
  }
}

/**
 * @internal A required prop: a plain JavaScript or Python caller may pass `undefined` or `null`;
 * that is a clear error, never a TypeError deep inside the construct.
 */
export function requireProp<T>(value: T | undefined | null, prop: string, fix: string): T {
  if (value === undefined || value === null) {
    throw new BackupDrConfigError(`${prop} is required but was ${value === null ? 'null' : 'not given'}; ${fix}`);
  }
  return value;
}

/** @internal A value of a string enum (checked at run time: JavaScript callers can pass any string). */
export function checkEnum<T extends string>(value: unknown, values: Record<string, T>, prop: string): T {
  const allowed = Object.values(values);
  if (!allowed.includes(value as T)) {
    const keys = Object.keys(values);
    throw new BackupDrConfigError(
      `${prop} is ${JSON.stringify(value)}, which is not one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}; ` +
      `use the enum (e.g. ${keys[0]})`,
    );
  }
  return value as T;
}

/** @internal A Duration prop (a JavaScript caller can pass a number or a string). */
export function checkDuration(value: unknown, prop: string, example: string): Duration {
  if (!(value instanceof Duration)) {
    throw new BackupDrConfigError(`${prop} is ${JSON.stringify(value)}, but must be a Duration; e.g. ${example}`);
  }
  return value;
}
