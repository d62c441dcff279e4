import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { buildSampleApp } from './sample-app';
import * as lib from '../../src';
import { BackupCatalog } from '../../src/catalog';
import { main } from '../../src/catalog/cli';
import { BackupDrConfigError } from '../../src/core/validation';
import { TEST_CONTEXT } from '../support/app';

jest.setTimeout(300_000);

// Count the files written (fs's own properties cannot be spied on): delegate to the real writeFileSync.
jest.mock('fs', () => {
  const actual = jest.requireActual('fs');
  return { ...actual, writeFileSync: jest.fn(actual.writeFileSync) };
});
const writeFileSync = fs.writeFileSync as unknown as jest.Mock;

const GOLDEN_DIR = path.join(__dirname, 'golden');
/** `CATALOG_GOLDEN=update npx jest test/catalog/backup-catalog.test.ts` rewrites the golden files: review `git diff test/catalog/golden`. */
const UPDATE_GOLDEN = process.env.CATALOG_GOLDEN === 'update';

/**
 * Exported construct classes that protect no data themselves (infrastructure the protecting constructs use,
 * or tools over them). A new exported construct must be listed here or in PROTECTING, so that a
 * construct that protects data but records no inventory row cannot slip through.
 */
const NOT_PROTECTING = new Set([
  'RecoveryVault', 'BackupPlanRegistry', 'BackupRegionSettings', 'BackupCatalog', 'DrSecondarySite',
  'BackupComplianceFramework', 'RestoreTesting', 'RestoreTestingPlan', 'RecoveryPointMonitor', 'OrganizationBackupPolicy',
  'BackupDrChecks', 'ScheduledExport', 'ScheduledJob', 'AlarmTopic', 'BackupKey', 'BackupAlarmTopic',
  // Run-time verification of what the protecting constructs registered (restore drills of external dumps included).
  'ProtectionVerification', 'RestoreDrill', 'ResilienceHubPolicy',
]);
/** Exported construct classes that protect data: each must record at least one row in the sample app. */
const PROTECTING = ['RdsBackupPolicy', 'DynamoPitrBackup', 'S3ArchiveLifecycle', 'ExternalDbBackupLambda'];

function capture(argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

describe('BackupCatalog.of(app) on the sample app', () => {
  let outdir: string;
  let catalog: BackupCatalog;
  let protectedBy: Record<string, string>;
  let writes: string[];

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-sample-'));
    // A file of an earlier synthesis: replaced, not kept.
    fs.writeFileSync(path.join(outdir, 'backup-catalog.md'), 'stale');
    const sample = buildSampleApp(outdir);
    protectedBy = sample.protectedBy;
    catalog = BackupCatalog.of(sample.app);
    expect(BackupCatalog.of(sample.app)).toBe(catalog);
    writeFileSync.mockClear();
    sample.app.synth();
    writes = writeFileSync.mock.calls.map((c) => String(c[0])).filter((f) => BackupCatalog.FILE_NAMES.includes(path.basename(f)));
  });

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  const read = (name: string) => fs.readFileSync(path.join(outdir, name), 'utf-8');

  test('app.synth() writes the four files into the cloud assembly, once, although of() was called twice', () => {
    expect(catalog.outdir).toBe(outdir);
    expect(catalog.filePaths.map((f) => path.basename(f))).toEqual(['backup-catalog.md', 'backup-catalog.csv', 'backup-catalog.json', 'dr-runbook.md']);
    expect(writes.map((f) => path.basename(f)).sort()).toEqual([...BackupCatalog.FILE_NAMES].sort());
    for (const f of catalog.filePaths) expect(fs.existsSync(f)).toBe(true);
    expect(read('backup-catalog.md')).not.toBe('stale');
  });

  test('every protecting construct of the app has its row, in every format', () => {
    const md = read('backup-catalog.md');
    const csv = read('backup-catalog.csv');
    const json = JSON.parse(read('backup-catalog.json'));
    for (const p of Object.values(protectedBy)) {
      expect(md).toMatch(new RegExp(`^\\| ${p} \\| Current data \\| [^|]+ \\| Pro \\| `, 'm'));
      expect(csv).toMatch(new RegExp(`^${p},Current data,`, 'm'));
      expect(json.entries.map((e: { backupName: string }) => e.backupName)).toContain(p);
    }
    expect(json.entries).toHaveLength(Object.keys(protectedBy).length);
    expect(csv.trim().split('\r\n')).toHaveLength(1 + Object.keys(protectedBy).length);
  });

  test('locations are resolved: the vault ARN with its real name, buckets in the policy format; never a token', () => {
    const json = JSON.parse(read('backup-catalog.json'));
    const byName = (p: string) => json.entries.find((e: { backupName: string }) => e.backupName === p);
    expect(byName(protectedBy.DynamoPitrBackup).location).toMatch(/^arn:aws:backup:eu-west-1:111111111111:backup-vault:[A-Za-z0-9-]+$/);
    expect(byName(protectedBy.RdsBackupPolicy).location).toMatch(/^arn:aws:backup:eu-west-1:111111111111:backup-vault:/);
    expect(byName(protectedBy.S3ArchiveLifecycle).location)
      .toMatch(/^https:\/\/s3\.eu-west-1\.amazonaws\.com\/\{assigned at deploy: stack CatalogSample, logical id Archive[A-Za-z0-9]+\}/);
    expect(byName(protectedBy.ExternalDbBackupLambda).location)
      .toMatch(/^https:\/\/s3\.eu-west-1\.amazonaws\.com\/\{assigned at deploy: stack CatalogSample, logical id Archive[A-Za-z0-9]+\}\/\S+/);
    for (const f of BackupCatalog.FILE_NAMES) expect(read(f)).not.toMatch(/\$\{Token\[|Fn::|"Ref"/);
  });

  test('the runbook has a section per entry with its restore commands and expected RTO', () => {
    const runbook = read('dr-runbook.md');
    for (const p of Object.values(protectedBy)) expect(runbook).toContain(`. ${p}\n`);
    expect(runbook).toContain('| Expected RTO | 1 hour (declared objective; RPO 15 minutes) |');
    expect(runbook).toContain('aws backup start-restore-job');
    expect(runbook).toContain('aws s3api list-object-versions');
  });

  test('the synth-time files are exactly what the CLI prints for the same assembly (one renderer)', () => {
    for (const [format, file] of [['md', 'backup-catalog.md'], ['csv', 'backup-catalog.csv'], ['json', 'backup-catalog.json']]) {
      const out = capture(['catalog', outdir, '--format', format]);
      expect(out).toEqual({ code: 0, stdout: read(file), stderr: '' });
    }
    expect(capture(['runbook', outdir]).stdout).toBe(read('dr-runbook.md'));
  });

  test('every exported construct class is classified, and each protecting one records a row', () => {
    const exported = Object.entries(lib)
      .filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Construct)
      .map(([name]) => name);
    const unclassified = exported.filter((n) => !NOT_PROTECTING.has(n) && !PROTECTING.includes(n));
    expect(unclassified).toEqual([]); // add the class to PROTECTING (and to sample-app.ts) or to NOT_PROTECTING
    const rows = JSON.parse(read('backup-catalog.json')).entries.map((e: { backupName: string }) => e.backupName);
    for (const cls of PROTECTING.filter((n) => exported.includes(n))) {
      expect({ cls, path: protectedBy[cls] }).toEqual({ cls, path: expect.any(String) });
      expect({ cls, rows: rows.filter((r: string) => r === protectedBy[cls]).length }).toEqual({ cls, rows: 1 });
    }
  });

  test.each(['backup-catalog.md', 'backup-catalog.csv', 'backup-catalog.json', 'dr-runbook.md'])('golden file %s', (name) => {
    const golden = path.join(GOLDEN_DIR, name);
    // Golden files are stored with LF (git normalizes text files); the CSV's CRLF is checked in render.test.ts.
    const actual = read(name).replace(/\r\n/g, '\n');
    if (UPDATE_GOLDEN) {
      fs.mkdirSync(GOLDEN_DIR, { recursive: true });
      fs.writeFileSync(golden, actual);
    }
    expect(actual).toBe(fs.readFileSync(golden, 'utf-8').replace(/\r\n/g, '\n'));
  });
});

describe('BackupCatalog writes once per synthesis', () => {
  test('an app with stacks in two regions (the plugin is called per environment) gets one set of files, all stacks merged', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-regions-'));
    try {
      const app = new App({ context: TEST_CONTEXT, outdir });
      for (const region of ['eu-west-1', 'us-east-1']) {
        const stack = new Stack(app, `Orders-${region}`, { env: { account: '111111111111', region } });
        const table = new dynamodb.TableV2(stack, 'Orders', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
        new lib.DynamoPitrBackup(stack, 'Backup', { tables: [table], objectives: lib.RecoveryTier.STANDARD, environment: lib.DeploymentEnvironment.DEV });
      }
      BackupCatalog.of(app.node.findChild('Orders-us-east-1'));
      writeFileSync.mockClear();
      app.synth();
      const written = writeFileSync.mock.calls.filter((c) => String(c[0]).endsWith('backup-catalog.json'));
      expect(written).toHaveLength(1);
      const entries = JSON.parse(fs.readFileSync(path.join(outdir, 'backup-catalog.json'), 'utf-8')).entries;
      expect(entries.map((e: { backupName: string; region: string }) => [e.backupName, e.region])).toEqual([
        ['Orders-eu-west-1/Backup', 'eu-west-1'],
        ['Orders-us-east-1/Backup', 'us-east-1'],
      ]);
      expect(entries[1].location).toMatch(/^arn:aws:backup:us-east-1:111111111111:backup-vault:/);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('an app without any backup construct: a warning on the catalog, no files', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-empty-'));
    try {
      const app = new App({ context: TEST_CONTEXT, outdir });
      const stack = new Stack(app, 'Plain');
      new dynamodb.TableV2(stack, 'Unprotected', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
      BackupCatalog.of(app);
      app.synth();
      for (const f of BackupCatalog.FILE_NAMES) expect(fs.existsSync(path.join(outdir, f))).toBe(false);
      const warnings = app.node.findChild('BackupDrCatalog').node.metadata.filter((m) => m.type === 'aws:cdk:warning');
      expect(warnings.map((w) => String(w.data))).toEqual([expect.stringMatching(/no construct of the app records a backup/)]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('a construct tree without an App is refused with the fix', () => {
    const root = new Construct(undefined as unknown as Construct, '');
    expect(() => BackupCatalog.of(new Construct(root, 'Child'))).toThrow(BackupDrConfigError);
    expect(() => BackupCatalog.of(root)).toThrow(/the root of the construct tree is not an App.*pass a construct of an App/);
  });
});
