import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { IPolicyValidationContextBeta1, App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../examples/example-stacks';
import { TEST_CONTEXT } from '../support/app';

/**
 * AWS Control Tower proactive controls (the cfn-guard rules Control Tower runs as CloudFormation hooks,
 * bundled in @cdklabs/cdk-validator-cfnguard) over the example app. Every finding must be one of the
 * exceptions below, each with the reason it is acceptable; anything else fails the test.
 */

const RULES_DIR = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules/control-tower/cfn-guard');

interface Finding {
  /** Control Tower control ID, e.g. CT.KMS.PR.3. */
  readonly control: string;
  readonly stack: string;
  readonly logicalId: string;
}

interface Exception {
  readonly control: string;
  /** Logical IDs of the resources the exception covers. */
  readonly resource: RegExp;
  /** Stacks it applies to. */
  readonly stacks: string[];
  readonly reason: string;
}

const BOTH = ['BackupDrExamplePro', 'BackupDrExampleDev'];
const ACCESS_LOGS = /^(CodeArchive|CurrentDataArchive|DocumentationArchive|HistoricalArchive)AccessLogs[0-9A-F]{8}$/;

const EXCEPTIONS: Exception[] = [
  {
    control: 'CT.ECS.PR.3',
    resource: /^CrmDumpDrillTask[0-9A-F]{8}$/,
    stacks: ['BackupDrExamplePro'],
    reason: 'restore drill task: it starts the throw-away PostgreSQL/MariaDB server as that server\'s own unprivileged user with ' +
      'runuser (initdb and mariadbd refuse root), which needs root at the start; the task has no network listener and reads only the dumps',
  },
  {
    control: 'CT.S3.PR.10',
    resource: ACCESS_LOGS,
    stacks: BOTH,
    reason: 'server access log buckets: S3 delivers server access logs only to buckets encrypted with SSE-S3, not SSE-KMS',
  },
  {
    control: 'CT.S3.PR.2',
    resource: ACCESS_LOGS,
    stacks: BOTH,
    reason: 'server access log buckets: logging a log bucket into itself loops; its own access is recorded by CloudTrail data events',
  },
  {
    control: 'CT.S3.PR.9',
    resource: ACCESS_LOGS,
    stacks: BOTH,
    reason: 'server access log buckets: S3 rejects a logging target bucket with an Object Lock default retention period',
  },
  {
    control: 'CT.S3.PR.4',
    resource: ACCESS_LOGS,
    stacks: BOTH,
    reason: 'server access log buckets: log deliveries are written by S3 every few minutes; notifications on them would only be noise',
  },
  {
    control: 'CT.S3.PR.9',
    resource: /^CodeArchive[0-9A-F]{8}$/,
    stacks: ['BackupDrExampleDev'],
    reason: 'DEV archives are deliberately mutable (Object Lock is the PRO default): DEV keeps 7 days of history that must expire and be deletable',
  },
  {
    control: 'CT.LAMBDA.PR.3',
    resource: /^(LedgerBackupSnapshotExportFunction|OrdersBackupSampleExportFunction|BackupDrRecoveryPointMonitorFunction|BackupDrRestoreTesting[A-Za-z]+ValidationFunction)[0-9A-F]{8}$/,
    stacks: BOTH,
    reason: 'scheduled export, recovery-point monitor and restore validation functions call AWS APIs only (RDS StartExportTask, DynamoDB ' +
      'ExportTableToPointInTime, AWS Backup list/describe, PutRestoreValidationResult, CloudWatch PutMetricData): they accept no inbound ' +
      'traffic, and a VPC would add NAT or interface endpoints for RDS, DynamoDB, S3, KMS and CloudWatch without reducing exposure',
  },
  {
    control: 'CT.LAMBDA.PR.3',
    resource: /^CrmDumpFunction[0-9A-F]{8}$/,
    stacks: ['BackupDrExamplePro'],
    reason: 'the example reaches its on-premises CRM database over TLS without a VPC; a real deployment passes `vpc` to ExternalDbBackupLambda ' +
      '(the function is then in the VPC and the finding disappears)',
  },
  {
    control: 'CT.LAMBDA.PR.3',
    resource: /^CustomCDKBucketDeployment[0-9A-F]+$/,
    stacks: ['BackupDrExamplePro'],
    reason: 'aws-cdk-lib BucketDeployment singleton that copies the example\'s documents from the CDK asset bucket at deploy time',
  },
  {
    control: 'CT.SQS.PR.1',
    resource: /DeadLetterQueue[0-9A-F]{8}$/,
    stacks: BOTH,
    reason: 'these queues are the dead-letter queues of the scheduled jobs; a dead-letter queue of a dead-letter queue has no consumer',
  },
  {
    control: 'CT.CLOUDWATCH.PR.2',
    resource: /LogGroup[0-9A-F]{8}$/,
    stacks: ['BackupDrExampleDev'],
    reason: 'DEV keeps the logs of its backup machinery 30 days (PolicyDefaults operationsLogRetention); PRO keeps them one year as audit evidence',
  },
];

/** Guard rule file per rule name, and the resource types it evaluates. */
function ruleFiles(): Map<string, { file: string; types: string[] }> {
  const rules = new Map<string, { file: string; types: string[] }>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) { walk(file); continue; }
      const text = fs.readFileSync(file, 'utf-8');
      const types = [...new Set(text.match(/AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g) ?? [])];
      for (const m of text.matchAll(/^rule (\w+)/gm)) if (!rules.has(m[1])) rules.set(m[1], { file, types });
    }
  };
  walk(RULES_DIR);
  return rules;
}

function guard(templates: Record<string, unknown>, rules?: string[]): { control: string; rule: string; template: string; logicalId?: string }[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'control-tower-'));
  const paths = Object.entries(templates).map(([name, json]) => {
    const file = path.join(dir, `${name}.template.json`);
    fs.writeFileSync(file, JSON.stringify(json));
    return file;
  });
  const validator = new CfnGuardValidator(rules ? { controlTowerRulesEnabled: false, rules } : { maxBuffer: 512 * 1024 * 1024 });
  const report = validator.validate({ templatePaths: paths } as unknown as IPolicyValidationContextBeta1);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => ({
    control: /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(v.description)?.[1] ?? v.ruleName,
    rule: v.ruleName,
    template: path.basename(r.templatePath, '.template.json'),
    logicalId: r.resourceLogicalId && r.resourceLogicalId !== 'undefined' ? r.resourceLogicalId : undefined,
  })));
}

/** Control Tower findings on the given stacks; findings the plugin reports without a resource are attributed one resource at a time. */
function controlTowerFindings(stacks: Stack[]): Finding[] {
  const templates = Object.fromEntries(stacks.map((s) => [s.stackName, Template.fromStack(s).toJSON()]));
  const files = ruleFiles();
  const findings: Finding[] = [];
  for (const f of guard(templates)) {
    if (f.logicalId) { findings.push({ control: f.control, stack: f.template, logicalId: f.logicalId }); continue; }
    const rule = files.get(f.rule);
    if (!rule) throw new Error(`no guard file defines rule ${f.rule}`);
    const resources = (templates[f.template] as any).Resources as Record<string, any>;
    for (const [id, resource] of Object.entries(resources)) {
      if (!rule.types.includes(resource.Type)) continue;
      if (guard({ single: { Resources: { [id]: resource } } }, [rule.file]).length > 0) {
        findings.push({ control: f.control, stack: f.template, logicalId: id });
      }
    }
  }
  const unique = new Map(findings.map((f) => [`${f.control} ${f.stack} ${f.logicalId}`, f]));
  return [...unique.values()];
}

const isException = (f: Finding) => EXCEPTIONS.some((e) => e.control === f.control && e.stacks.includes(f.stack) && e.resource.test(f.logicalId));

describe('example app under AWS Control Tower proactive controls', () => {
  const app = new App({ context: TEST_CONTEXT });
  const stacks = buildExampleApp(app);
  app.synth();
  let findings: Finding[];
  beforeAll(() => { findings = controlTowerFindings(stacks); }, 600_000);

  test('every finding is a documented exception', () => {
    expect(findings.filter((f) => !isException(f)).map((f) => `${f.control} ${f.stack}/${f.logicalId}`)).toEqual([]);
  });

  test('the controls did run and find the documented log-bucket exceptions', () => {
    // Guards the test itself: a validator that silently checks nothing would pass the test above.
    expect(findings).toContainEqual({ control: 'CT.S3.PR.10', stack: 'BackupDrExamplePro', logicalId: expect.stringMatching(ACCESS_LOGS) });
  });

  test('the vault\'s AWS Backup resources, IAM and SNS pass every control', () => {
    const passing = ['AWS::Backup::BackupVault', 'AWS::Backup::BackupPlan', 'AWS::Backup::BackupSelection', 'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::SNS::Topic'];
    const types = Object.fromEntries(stacks.map((s) => [s.stackName, Template.fromStack(s).toJSON().Resources as Record<string, any>]));
    expect(findings.filter((f) => passing.includes(types[f.stack][f.logicalId]?.Type))).toEqual([]);
  });

  test('every exception has a reason', () => {
    for (const e of EXCEPTIONS) expect(e.reason.length).toBeGreaterThan(40);
  });
});
