import type { S3Client } from '@aws-sdk/client-s3';
import { listKeys, listUploads } from './services';
import { BackupRunError } from '../../../src/external-db/handler/backup';

/** A failed backup leaves nothing: no object, no manifest, no multipart upload under its prefix. */
export async function expectNothingLeft(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  expect(await listKeys(s3, bucket, prefix)).toEqual([]);
  expect(await listUploads(s3, bucket, prefix)).toEqual([]);
}

/** Awaits a promise that must reject with a BackupRunError, and returns it. */
export async function expectRunError(p: Promise<unknown>): Promise<BackupRunError> {
  const outcome = await p.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }));
  if (outcome.ok) throw new Error(`expected the backup to fail, it succeeded: ${JSON.stringify(outcome.v)}`);
  expect(outcome.e).toBeInstanceOf(BackupRunError);
  return outcome.e as BackupRunError;
}

/** Captured log lines parsed as JSON (a line that is not JSON becomes `{}`). */
function parsedLines(lines: string[]): Array<Record<string, unknown>> {
  return lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return {};
    }
  });
}

/** The EMF lines among captured log lines. */
export function emfRecords(lines: string[]): Array<Record<string, unknown>> {
  return parsedLines(lines).filter((o) => o._aws !== undefined);
}

/** The JSON log lines (with a level; not the EMF ones) among captured log lines. */
export function logRecords(lines: string[]): Array<Record<string, unknown>> {
  return parsedLines(lines).filter((o) => typeof o.level === 'string');
}
