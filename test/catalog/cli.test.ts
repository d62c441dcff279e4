import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/catalog/cli';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(__dirname, 'fixtures');

/** Runs the CLI as a child process (the TypeScript source, transpiled by ts-node), in `cwd`. */
function cli(args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), path.join(ROOT, 'src/catalog/cli.ts'), ...args], {
    cwd,
    encoding: 'utf-8',
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const POLICY_ROW = 'Archive/Historical | Historical data | Weekly | Pro | S3 | https://s3.us-west-2.amazonaws.com/mybucket/example-backup-name';

describe('cdk-backup-dr catalog', () => {
  test('default format is Markdown: the policy\'s example row, from metadata inline in manifest.json', () => {
    const r = cli(['catalog', path.join(FIXTURES, 'assembly')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`| ${POLICY_ROW} | 7 days | 3 days | — | none | SRE: RESTORE |`);
  });

  test('--format csv', () => {
    const r = cli(['catalog', path.join(FIXTURES, 'assembly'), '--format', 'csv']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\r\n')).toEqual([
      'Backup name,Content,Periodicity,Environment,Type of backup support,Location,RPO,RTO,Retention,DR site,Access',
      'Archive/Historical,Historical data,Weekly,Pro,S3,https://s3.us-west-2.amazonaws.com/mybucket/example-backup-name,7 days,3 days,—,none,SRE: RESTORE',
      '',
    ]);
  });

  test('--format=json', () => {
    const r = cli(['catalog', '--format=json', path.join(FIXTURES, 'assembly')]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).entries).toEqual([expect.objectContaining({
      backupName: 'Archive/Historical',
      location: 'https://s3.us-west-2.amazonaws.com/mybucket/example-backup-name',
      stack: 'Archive',
      account: '222222222222',
      region: 'us-west-2',
    })]);
  });

  test('the directory defaults to ./cdk.out', () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-cwd-'));
    try {
      fs.cpSync(path.join(FIXTURES, 'assembly'), path.join(cwd, 'cdk.out'), { recursive: true });
      const r = cli(['catalog'], cwd);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(POLICY_ROW);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('cdk-backup-dr runbook', () => {
  test('prints the runbook with the real bucket and stack name', () => {
    const r = cli(['runbook', path.join(FIXTURES, 'assembly')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# DR runbook\n/);
    expect(r.stdout).toContain('## 1. Archive/Historical');
    expect(r.stdout).toContain('| Stack | Archive (account 222222222222, us-west-2) |');
    expect(r.stdout).toContain('BUCKET="mybucket"');
    expect(r.stdout).toContain('PREFIX="example-backup-name/"');
    expect(r.stdout).toContain('| Who may run it | SRE (RESTORE) |');
  });
});

describe('errors: a clear message on stderr and a non-zero exit', () => {
  test('missing directory', () => {
    const r = cli(['catalog', path.join(FIXTURES, 'does-not-exist')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^cdk-backup-dr: .*does-not-exist: no such directory\. Synthesize the app first \(npx cdk synth\)/);
  });

  test('a directory that is not a cloud assembly', () => {
    const r = cli(['runbook', FIXTURES]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/fixtures is not a cloud assembly: it has no manifest\.json/);
  });

  test('an assembly without any backup construct', () => {
    const r = cli(['catalog', path.join(FIXTURES, 'no-backup')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no-backup has no backup construct: none of its stacks \(Plain\) records a "cdk-backup-dr:catalog" entry/);
  });

  test.each([
    [['catalog', '--format', 'xml'], /unknown format "xml"; use md, csv or json/],
    [['runbook', '--format', 'csv'], /--format only applies to "catalog"/],
    [['inventory'], /unknown command "inventory"/],
    [[], /missing command/],
  ])('bad usage %j: exit 2 with the usage (in process)', (args, message) => {
    let stderr = '';
    let stdout = '';
    const status = main(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toContain('Usage:');
  });
});
