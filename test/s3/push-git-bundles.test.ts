import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupContent, DeploymentEnvironment, RecoveryTier } from '../../src';
import { S3ArchiveLifecycle } from '../../src/s3';
import { testStack } from '../support/app';

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'push-git-bundles.sh');
const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };

let work: string;
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf-8' }).trim();

/** Runs the script with a stub `aws` on PATH that records its arguments. */
function run(args: string[]) {
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'aws'), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${path.join(work, 'aws.log')}"\n`, { mode: 0o755 });
  const r = spawnSync('bash', [SCRIPT, ...args], { cwd: work, env: { ...process.env, ...GIT_ENV, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf-8' });
  const log = fs.existsSync(path.join(work, 'aws.log')) ? fs.readFileSync(path.join(work, 'aws.log'), 'utf-8').trim().split('\n') : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, aws: log };
}

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bundles-'));
  // An "origin" with pro and dev branches (no qa), and a CI-style clone that only has origin/* refs for dev.
  const origin = path.join(work, 'origin');
  fs.mkdirSync(origin);
  git(origin, 'init', '-q', '-b', 'pro');
  fs.writeFileSync(path.join(origin, 'app.txt'), 'v1\n');
  git(origin, 'add', '.');
  git(origin, 'commit', '-q', '-m', 'v1');
  git(origin, 'checkout', '-q', '-b', 'dev');
  fs.writeFileSync(path.join(origin, 'app.txt'), 'v2\n');
  git(origin, 'commit', '-q', '-am', 'v2');
  git(origin, 'checkout', '-q', 'pro');
  git(work, 'clone', '-q', origin, 'ci');
});

afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

test('bundles each existing branch under <repo>/<branch>/ and uploads it to the key codeBundleKey names', () => {
  // GIVEN the key layout of a CODE archive with a prefix
  const archive = new S3ArchiveLifecycle(testStack(), 'Code', { content: BackupContent.CODE, environment: DeploymentEnvironment.PRO, objectives: RecoveryTier.ARCHIVE, prefix: 'git/' });

  // WHEN
  const r = run(['--repo-name', 'payments-api', '--bucket', 'archive-bucket', '--prefix', 'git/', '--repo-dir', 'ci', '--out-dir', 'out']);

  // THEN: pro (local) and dev (remote-tracking only) are bundled and uploaded, qa is skipped with a warning
  expect(r.status).toBe(0);
  expect(r.stderr).toContain("warning: branch 'qa' not found");
  const commits = { pro: git(path.join(work, 'origin'), 'rev-parse', 'pro'), dev: git(path.join(work, 'origin'), 'rev-parse', 'dev') };
  expect(r.aws).toEqual((['pro', 'dev'] as const).map((b) =>
    `s3 cp out/payments-api/${b}/payments-api.bundle s3://archive-bucket/${archive.codeBundleKey('payments-api', b)} --only-show-errors ` +
    `--metadata git-branch=${b},git-commit=${commits[b]}`));

  // the bundles restore the branch at its latest commit
  for (const b of ['pro', 'dev'] as const) {
    const restored = path.join(work, `restored-${b}`);
    git(work, 'clone', '-q', '--branch', b, path.join(work, 'out', 'payments-api', b, 'payments-api.bundle'), restored);
    expect(git(restored, 'rev-parse', 'HEAD')).toBe(commits[b]);
  }
  // the temporary branch created for the remote-tracking ref is gone
  expect(git(path.join(work, 'ci'), 'for-each-ref', '--format=%(refname)', 'refs/heads')).toBe('refs/heads/pro');
});

test('--no-upload only creates and verifies bundles', () => {
  const r = run(['--repo-name', 'app', '--branches', 'pro', '--repo-dir', 'ci', '--out-dir', 'out', '--no-upload']);
  expect(r.status).toBe(0);
  expect(r.aws).toEqual([]);
  expect(fs.existsSync(path.join(work, 'out', 'app', 'pro', 'app.bundle'))).toBe(true);
  expect(git(work, 'bundle', 'list-heads', path.join(work, 'out', 'app', 'pro', 'app.bundle'))).toMatch(/ refs\/heads\/pro$/);
});

test.each([
  [['--repo-name', 'bad name', '--no-upload'], /--repo-name 'bad name' must be/],
  [['--repo-name', 'app'], /--bucket is required/],
  [['--repo-name', 'app', '--bucket', 'b', '--prefix', 'git'], /--prefix 'git' must end with '\/'/],
  [['--repo-name', 'app', '--no-upload', '--branches', 'pro ../x'], /branch '\.\.\/x' must be/],
  [['--repo-name', 'app', '--no-upload', '--repo-dir', '.'], /is not a git repository/],
  [['--repo-name', 'app', '--no-upload', '--frobnicate'], /unknown argument '--frobnicate'/],
])('usage errors exit 2 (%#)', (args, message) => {
  const r = run(args);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(message);
});

test('exits 1 when none of the branches exists', () => {
  const r = run(['--repo-name', 'app', '--branches', 'qa', '--repo-dir', 'ci', '--no-upload']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/no branch of 'qa' exists/);
});
