/**
 * The local servers that .ci/services.sh starts, as the tests see them (BDR_* environment variables).
 * Missing variables: in CI (process.env.CI set) the test file fails loudly; elsewhere its suites are
 * skipped with a message saying how to start the servers.
 */
import * as net from 'net';
import {
  CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client, DeleteObjectsCommand,
  GetObjectCommand,
} from '@aws-sdk/client-s3';

export interface PgService {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly major: number;
}

export interface MysqlService {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly major: number;
}

export interface S3Service {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Services {
  readonly pg: PgService;
  readonly mysql: MysqlService;
  readonly s3: S3Service;
}

const REQUIRED = [
  'BDR_PG_HOST', 'BDR_PG_PORT', 'BDR_PG_USER', 'BDR_PG_PASSWORD', 'BDR_PG_MAJOR',
  'BDR_MYSQL_HOST', 'BDR_MYSQL_PORT', 'BDR_MYSQL_USER', 'BDR_MYSQL_PASSWORD',
  'BDR_S3_ENDPOINT', 'BDR_S3_BUCKET',
];

export const SKIP_HINT = 'start the local PostgreSQL, MariaDB and S3 servers first: `source .ci/services.sh`';

/** The services, or undefined (outside CI) when they are not configured. Throws in CI. */
export function loadServices(env: NodeJS.ProcessEnv = process.env): Services | undefined {
  const missing = REQUIRED.filter((k) => !env[k]);
  if (missing.length > 0) {
    if (env.CI) {
      throw new Error(`external-db handler tests cannot run: ${missing.join(', ')} not set. In CI, ${SKIP_HINT} before \`npm test\`.`);
    }
    return undefined;
  }
  return {
    pg: {
      host: env.BDR_PG_HOST!,
      port: Number(env.BDR_PG_PORT),
      user: env.BDR_PG_USER!,
      password: env.BDR_PG_PASSWORD!,
      major: Number(env.BDR_PG_MAJOR),
    },
    mysql: {
      host: env.BDR_MYSQL_HOST!,
      port: Number(env.BDR_MYSQL_PORT),
      user: env.BDR_MYSQL_USER!,
      password: env.BDR_MYSQL_PASSWORD!,
      major: Number(env.BDR_MYSQL_MAJOR ?? '10'),
    },
    s3: {
      endpoint: env.BDR_S3_ENDPOINT!,
      bucket: env.BDR_S3_BUCKET!,
      region: env.BDR_S3_REGION ?? 'us-east-1',
      accessKeyId: env.BDR_S3_ACCESS_KEY_ID ?? 'S3RVER',
      secretAccessKey: env.BDR_S3_SECRET_ACCESS_KEY ?? 'S3RVER',
    },
  };
}

export const services = loadServices();

/**
 * The AWS SDK resolves credentials and region from the environment in the code under test (the Lambda
 * handler creates its own clients): point them at the local S3 server's fixed credentials.
 */
export function useLocalAwsEnvironment(s3: S3Service): void {
  process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  process.env.AWS_REGION = s3.region;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

/** `describe` when the servers are there, else `describe.skip` with the reason in its title. */
export function describeWithServices(name: string, fn: (svc: Services) => void): void {
  if (services) {
    useLocalAwsEnvironment(services.s3);
    describe(name, () => fn(services!));
  } else {
    // eslint-disable-next-line no-console
    console.warn(`[external-db] skipping "${name}": ${SKIP_HINT}`);
    describe.skip(`${name} (skipped: ${SKIP_HINT})`, () => {
      test('needs the local servers', () => undefined);
    });
  }
}

export function testS3Client(s3: S3Service, endpoint: string = s3.endpoint): S3Client {
  return new S3Client({
    endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}

export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
}

export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

export async function listUploads(client: S3Client, bucket: string, prefix: string): Promise<Array<{ key: string; uploadId: string }>> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (out.Uploads ?? []).map((u) => ({ key: u.Key!, uploadId: u.UploadId! }));
}

export async function getText(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString('utf8');
}

export async function deletePrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  const keys = await listKeys(client, bucket, prefix);
  if (keys.length > 0) {
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  }
}

/** A prefix no other test uses. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}/`;
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `intervalMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
