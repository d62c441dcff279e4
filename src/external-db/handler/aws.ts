/**
 * AWS clients (S3, Secrets Manager), the database secret, and multipart clean-up.
 */
import {
  AbortMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, S3Client,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Engine } from './config';

export interface S3ClientOptions {
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly region?: string;
}

/** S3 client with connection/socket timeouts (a hung request must not eat the Lambda's safety margin). */
export function createS3Client(opts: S3ClientOptions = {}): S3Client {
  return new S3Client({
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.endpoint ? {
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle ?? true,
      // S3-compatible test servers do not implement the flexible checksums (aws-chunked trailers).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    } : { forcePathStyle: opts.forcePathStyle }),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });
}

/** Connection secret as stored in Secrets Manager (the RDS secret JSON shape). */
export interface DbSecret {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly dbname?: string;
  readonly engine?: string;
}

export type SecretFetcher = (secretArn: string) => Promise<DbSecret>;

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

const DEFAULT_PORTS: Record<Engine, number> = { postgres: 5432, mysql: 3306, mariadb: 3306 };

/**
 * Validates a secret's JSON. Error messages name the missing fields, never the values.
 */
export function parseDbSecret(json: string, engine: Engine, secretArn: string): DbSecret {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new SecretError(`Secret ${secretArn} is not JSON; expected {host, port, username, password, dbname}`);
  }
  if (raw === null || typeof raw !== 'object') throw new SecretError(`Secret ${secretArn} is not a JSON object`);
  const str = (k: string) => (typeof raw[k] === 'string' && (raw[k] as string).length > 0 ? raw[k] as string : undefined);
  const missing = ['host', 'username', 'password'].filter((k) => str(k) === undefined);
  if (missing.length > 0) throw new SecretError(`Secret ${secretArn} lacks ${missing.join(', ')}`);
  const portRaw = raw.port ?? DEFAULT_PORTS[engine];
  const port = Number(portRaw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new SecretError(`Secret ${secretArn} has an invalid port`);
  const secretEngine = str('engine');
  if (secretEngine) {
    const family = (e: string) => (/postgres/i.test(e) ? 'postgres' : /mysql|maria|aurora$/i.test(e) ? 'mysql' : e);
    if (family(secretEngine) !== family(engine)) {
      throw new SecretError(`Secret ${secretArn} is for engine "${secretEngine}" but ENGINE=${engine}`);
    }
  }
  return {
    host: str('host')!,
    port,
    username: str('username')!,
    password: str('password')!,
    dbname: str('dbname') ?? str('database'),
    engine: secretEngine,
  };
}

/** Fetches the secret at run time (never cached across invocations: rotation takes effect at once). */
export function secretsManagerFetcher(client: SecretsManagerClient, engine: Engine): SecretFetcher {
  return async (secretArn: string) => {
    let out;
    try {
      out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    } catch (err) {
      throw new SecretError(`Cannot read secret ${secretArn}: ${(err as Error).name}: ${(err as Error).message}`);
    }
    const json = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
    if (!json) throw new SecretError(`Secret ${secretArn} has no value`);
    return parseDbSecret(json, engine, secretArn);
  };
}

export function createSecretsManagerClient(): SecretsManagerClient {
  return new SecretsManagerClient({ maxAttempts: 3 });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string };
  return e?.name ?? e?.Code ?? 'Error';
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** 403: the role lacks the permission (HeadObject also answers 403 for a missing key without s3:ListBucket). */
export function isAccessDenied(err: unknown): boolean {
  return httpStatus(err) === 403 || errorName(err) === 'AccessDenied' || errorName(err) === 'Forbidden';
}

function isNotFound(err: unknown): boolean {
  return httpStatus(err) === 404 || ['NotFound', 'NoSuchKey', 'NoSuchUpload'].includes(errorName(err));
}

/**
 * Makes sure a failed backup leaves nothing behind under its (unique) object key: aborts the known upload
 * and any other multipart upload still listed for the key (S3 may need several aborts while part uploads
 * are in flight), and deletes the object if a completion raced the failure. Returns the problems left
 * (empty when clean); never throws. Permissions: s3:AbortMultipartUpload on the prefix; optionally
 * s3:ListBucketMultipartUploads on the bucket (to verify), s3:GetObject and s3:DeleteObject (for the race).
 * A check the role may not do is skipped, not reported.
 */
export async function cleanUpFailedUpload(
  s3: S3Client, bucket: string, key: string, uploadId: string | undefined, attempts = 3,
): Promise<string[]> {
  let problems: string[] = [];
  const describe = (what: string, err: unknown) => `${what} failed: ${errorName(err)}: ${(err as Error).message}`;
  const listOurs = async (): Promise<string[] | undefined> => {
    try {
      const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
      return (listed.Uploads ?? []).filter((u) => u.Key === key && u.UploadId).map((u) => u.UploadId!);
    } catch (err) {
      if (isAccessDenied(err)) return undefined; // cannot verify; the known upload id is aborted anyway
      problems.push(describe('ListMultipartUploads', err));
      return undefined;
    }
  };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    problems = [];
    const ids = new Set<string>(uploadId ? [uploadId] : []);
    for (const id of (await listOurs()) ?? []) ids.add(id);
    for (const id of ids) {
      try {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }));
      } catch (err) {
        if (!isNotFound(err)) problems.push(describe(`AbortMultipartUpload ${id}`, err));
      }
    }
    let exists = false;
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      exists = true;
    } catch (err) {
      if (!isNotFound(err) && !isAccessDenied(err)) problems.push(describe('HeadObject', err));
    }
    if (exists) {
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        problems.push(describe('removing an object completed despite the failure (it has no manifest)', err));
      }
    }
    if (problems.length === 0) {
      const left = await listOurs();
      if (left && left.length > 0) problems.push(`multipart upload ${left.join(', ')} still listed after abort`);
    }
    if (problems.length === 0) return [];
    if (attempt < attempts) await sleep(250 * attempt);
  }
  return problems;
}
