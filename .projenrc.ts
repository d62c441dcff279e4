import { awscdk, javascript, JsonFile } from 'projen';

/**
 * Source of truth for package.json, tsconfig, jest, eslint and tasks.
 * Edit this file, then run `npx projen`.
 */
const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-backup-dr',
  description:
    'AWS CDK L3 constructs that turn a backup & disaster-recovery policy (RPO/RTO, environment, content class, team access) into AWS Backup plans, S3 archive lifecycles, database dump jobs and DR copies.',
  author: 'cdk-backup-dr maintainers',
  authorAddress: 'maintainers@cdk-backup-dr.dev',
  repositoryUrl: 'https://github.com/cdk-backup-dr/cdk-backup-dr.git',
  keywords: ['aws-cdk', 'awscdk', 'aws-backup', 'backup', 'disaster-recovery', 'rpo', 'rto', 'cdk-nag'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  // npx cdk-backup-dr catalog|runbook [cdk.out]: the shim requires lib/catalog/cli.js (compiled by jsii).
  bin: { 'cdk-backup-dr': 'bin/cdk-backup-dr' },
  github: false,
  release: false,
  // Node 20 on the build machines; Lambda functions use Node.js 22+ at run time.
  minNodeVersion: '20.0.0',
  // Floor: cdk-nag 3 needs >= 2.257; template validation against CloudFormation rules needs >= 2.262; 2.276
  // no longer prints aws_dynamodb.TableGrantsProps deprecation warnings on every synth of a user's app.
  // Tests run against exactly this version (devDependency), which is also the peer minimum.
  cdkVersion: '2.276.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0',
  // BackupDrChecks extends cdk-nag's NagPack: a jsii peer dependency (and a devDependency for the tests).
  peerDeps: ['cdk-nag@^3.0.2'],
  devDeps: [
    'cdk-nag@^3.0.2',
    'aws-cdk@^2.1100.0',
    'esbuild@^0.28.0',
    'ts-node@^10.9.2',
    'aws-sdk-client-mock@^4.1.0',
    'aws-sdk-client-mock-jest@^4.1.0',
    's3rver@^3.7.1',
    // AWS Control Tower proactive controls (cfn-guard rules) run over the example app in a test.
    '@cdklabs/cdk-validator-cfnguard@^0.0.62',
    // Bundled into Lambda handlers by esbuild (never runtime deps of the library).
    '@aws-sdk/client-backup@^3.1000.0',
    '@aws-sdk/client-cloudwatch@^3.1000.0',
    '@aws-sdk/client-resource-groups-tagging-api@^3.1000.0',
    '@aws-sdk/client-rds@^3.1000.0',
    '@aws-sdk/client-dynamodb@^3.1000.0',
    '@aws-sdk/client-s3@^3.1000.0',
    '@aws-sdk/client-secrets-manager@^3.1000.0',
    '@types/aws-lambda@^8.10.0',
  ],
  // Handlers are bundled by esbuild into assets/, not compiled by jsii.
  excludeTypescript: ['src/**/handler/**'],
  jestOptions: {
    // CI never rewrites snapshots.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/cdk.out/'],
    },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'projenrc'],
  },
  gitignore: ['/assets/', 'cdk.out/', '/bench/.out/', '*.tgz'],
  publishToPypi: { distName: 'cdk-backup-dr', module: 'cdk_backup_dr' },
  publishToMaven: {
    javaPackage: 'io.github.cdkbackupdr',
    mavenGroupId: 'io.github.cdk-backup-dr',
    mavenArtifactId: 'cdk-backup-dr',
  },
  publishToNuget: { dotNetNamespace: 'CdkBackupDr', packageId: 'CdkBackupDr' },
  publishToGo: { moduleName: 'github.com/cdk-backup-dr/cdk-backup-dr-go' },
});

// ---------------------------------------------------------------------------
// Lambda handler bundles: esbuild → assets/<name>/index.js (Node.js 22 target).
// ---------------------------------------------------------------------------
const bundle = project.addTask('bundle', { description: 'Bundle Lambda handlers into assets/' });
const handlers: Array<{ name: string; entry: string; copy?: string[] }> = [
  { name: 'backup-region-settings', entry: 'src/dynamodb/handler/region-settings.ts' },
  { name: 'scheduled-export', entry: 'src/foundation/handler/scheduled-export.ts' },
  { name: 'recovery-point-monitor', entry: 'src/verification/handler/recovery-point-monitor.ts' },
  { name: 'restore-validation', entry: 'src/verification/handler/restore-validation.ts' },
  {
    name: 'external-db-dump',
    entry: 'src/external-db/handler/index.ts',
    copy: ['src/external-db/docker/Dockerfile'],
  },
];
for (const h of handlers) {
  bundle.exec(
    // Minified (41–42% of the size) with a source map beside it; see README "Lambda handlers" for the init-time measurement.
    `esbuild ${h.entry} --bundle --platform=node --target=node22 --format=cjs --minify --sourcemap ` +
    `--outfile=assets/${h.name}/index.js --log-level=warning`,
  );
  for (const c of h.copy ?? []) {
    bundle.exec(`cp ${c} assets/${h.name}/`);
  }
}
project.preCompileTask.spawn(bundle);
for (const p of ['/examples/', '/bench/', '/cdk.json', '/.ci/', 'cdk.out/']) {
  project.addPackageIgnore(p);
}
project.testTask.prependSpawn(bundle);

// Example app: `npx cdk synth` (cdk.json → examples/app.ts), bundling first.
new JsonFile(project, 'cdk.json', {
  obj: {
    app: 'npx ts-node --prefer-ts-exts examples/app.ts',
    build: 'npx projen bundle',
    context: {
      '@aws-cdk/core:validateAgainstDefaultRules': true,
      '@aws-cdk/aws-iam:minimizePolicies': true,
      '@aws-cdk/core:enablePartitionLiterals': true,
      '@aws-cdk/aws-kms:reduceCrossAccountRegionPolicyScope': true,
      // The example's placeholder account: cached lookups, so `cdk synth` works offline without credentials.
      'availability-zones:account=111111111111:region=eu-west-1': ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
    },
  },
});

// Lint: handlers are bundled (devDependencies are fine there) and outside jsii's tsconfig; they,
// examples/ and bench/ get their own tsconfig so the type-aware rules can see them.
for (const dir of ['src/dynamodb/handler', 'src/foundation/handler', 'src/external-db/handler', 'src/verification/handler']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../../../tsconfig.json',
      compilerOptions: { rootDir: '.', noEmit: true },
      include: ['*.ts'],
      exclude: [],
    },
  });
}
project.eslint?.allowDevDeps('src/**/handler/**');
for (const dir of ['examples', 'bench']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { rootDir: '..', noEmit: true },
      include: ['**/*.ts', '../src/**/*.ts'],
    },
  });
}

// The scale benchmarks synthesize the verification functions, whose code is the bundled handlers.
project.addTask('bench', {
  description: 'Scale benchmark: backup machinery resources and synth overhead for N protected tables',
  env: { JSII_DEPRECATED: 'quiet' },
}).spawn(project.tasks.tryFind('bundle')!);
project.tasks.tryFind('bench')!.exec('ts-node --prefer-ts-exts bench/scale.ts');

project.addTask('bench:dr', {
  description: 'Scale benchmark with a DR site: resources and copy actions added per protected table (local vs DR)',
  env: { JSII_DEPRECATED: 'quiet' },
}).spawn(project.tasks.tryFind('bundle')!);
project.tasks.tryFind('bench:dr')!.exec('ts-node --prefer-ts-exts bench/scale-dr.ts');

// bench:dump runs the shipped handler asset, so it bundles first.
project.addTask('bench:dump', {
  description: 'External DB dump benchmark: handler throughput vs bare pg_dump, peak RSS (needs local PostgreSQL + S3 server)',
}).spawn(bundle);
project.tasks.tryFind('bench:dump')!.exec('ts-node --prefer-ts-exts bench/dump.ts');

// Mutation testing of the dump path (StrykerJS): hours on this machine, outside CI; start the local servers first.
project.addDevDeps('@stryker-mutator/core@^9.6.1', '@stryker-mutator/jest-runner@^9.6.1');
project.addTask('mutation', {
  description: 'Mutation testing of the dump path, src/external-db/handler/backup.ts and multipart.ts (StrykerJS; source .ci/services.sh first; outside CI, hours)',
  exec: 'stryker run stryker.config.json',
});
project.gitignore.exclude('/reports/mutation/', '/.stryker-tmp/');
project.addPackageIgnore('/stryker.config.json');

// Only the JS package is built here; other languages' bindings are generated as code to prove the API is jsii-clean.
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);
project.addTask('bindings', {
  description: 'Generate Python/Java/.NET/Go bindings as source only (offline jsii check)',
  exec: 'jsii-pacmak --targets python,java,dotnet,go --code-only --outdir dist/bindings',
});

project.synth();
