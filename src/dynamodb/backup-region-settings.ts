import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { DeploymentEnvironment } from '../core/environment';
import { handlerFunction } from '../foundation/handler-function';
import { ScheduledJob } from '../foundation/scheduled-job';
import { NagAcknowledgements } from '../nag/nag-acknowledgements';
import { COMPLIANCE_NAG_PACKS } from '../nag/nag-packs';

/** Properties of BackupRegionSettings. */
export interface BackupRegionSettingsProps {
  /**
   * Turn on AWS Backup's advanced DynamoDB backup features (cold storage, cross-account and
   * cross-Region copies, vault-key encryption) in this account and Region. AWS Backup's DynamoDB
   * opt-in is also turned on (never off).
   * @default true
   */
  readonly dynamoDbAdvancedFeatures?: boolean;
  /**
   * Put the previous values back when the resource is deleted.
   *
   * Off by default: the settings belong to the account and Region, so another stack's DynamoDB backups
   * with cold storage may rely on them after this stack is gone.
   * @default false
   */
  readonly restoreOnDelete?: boolean;
}

const SINGLETON_ID = 'BackupDrRegionSettings';
/** Account-and-Region settings serve every environment: their change log is kept as long as the strictest one's. */
const SETTINGS_LOG_ENVIRONMENT = DeploymentEnvironment.PRO;

/**
 * AWS Backup Region settings that CloudFormation has no resource for (a custom resource on the
 * provider framework calling `backup:UpdateRegionSettings`). One per stack: use `BackupRegionSettings.of`.
 */
export class BackupRegionSettings extends Construct {
  /**
   * The stack's settings resource that enables DynamoDB advanced backup features, created on first use.
   */
  public static of(scope: IConstruct): BackupRegionSettings {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(SINGLETON_ID) as BackupRegionSettings | undefined)
      ?? new BackupRegionSettings(stack, SINGLETON_ID, { dynamoDbAdvancedFeatures: true });
  }

  /** The custom resource; resources that need the settings depend on it. */
  public readonly resource: CustomResource;
  /** The `onEvent` handler function. */
  public readonly handler: lambda.IFunction;

  constructor(scope: Construct, id: string, props: BackupRegionSettingsProps = {}) {
    super(scope, id);

    const handlerRole = new iam.Role(this, 'HandlerRole', {
      description: `cdk-backup-dr: updates AWS Backup Region settings (${this.node.path})`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const handlerLogs = ScheduledJob.logGroup(this, 'HandlerLogGroup', SETTINGS_LOG_ENVIRONMENT);
    const handlerPolicy = new iam.ManagedPolicy(this, 'HandlerPolicy', {
      description: `cdk-backup-dr: describe and update AWS Backup Region settings (${this.node.path})`,
      roles: [handlerRole],
      statements: [
        // Region settings have no ARN: AWS Backup only authorizes these actions on "*".
        new iam.PolicyStatement({ actions: ['backup:DescribeRegionSettings', 'backup:UpdateRegionSettings'], resources: ['*'] }),
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [handlerLogs.logGroupArn] }),
      ],
    });
    const handler = handlerFunction(this, 'Handler', {
      description: 'cdk-backup-dr: AWS Backup Region settings (DynamoDB advanced backup features)',
      asset: 'backup-region-settings',
      timeout: Duration.minutes(1),
      role: handlerRole,
      policies: [handlerPolicy],
      logGroup: handlerLogs,
      reservedConcurrentExecutions: 1,
    });
    this.handler = handler;

    const frameworkRole = new iam.Role(this, 'ProviderRole', {
      description: `cdk-backup-dr: custom resource provider framework (${this.node.path})`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const frameworkLogs = ScheduledJob.logGroup(this, 'ProviderLogGroup', SETTINGS_LOG_ENVIRONMENT);
    const frameworkPolicy = new iam.ManagedPolicy(this, 'ProviderPolicy', {
      description: `cdk-backup-dr: provider framework invokes the Region settings handler (${this.node.path})`,
      roles: [frameworkRole],
      statements: [
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction', 'lambda:GetFunction'], resources: [handler.functionArn] }),
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [frameworkLogs.logGroupArn] }),
      ],
    });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: handler,
      frameworkOnEventRole: frameworkRole.withoutPolicyUpdates(),
      logGroup: frameworkLogs,
    });
    // The provider framework's own function (the only Lambda function the Provider creates besides ours).
    const frameworkFunction = provider.node.findAll().find((c): c is lambda.Function => c instanceof lambda.Function && c !== handler);
    if (frameworkFunction) {
      frameworkFunction.node.addDependency(frameworkPolicy);
      (frameworkFunction.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = 1;
    }

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::BackupRegionSettings',
      properties: {
        EnableDynamoDbAdvancedFeatures: String(props.dynamoDbAdvancedFeatures ?? true),
        OptInDynamoDb: 'true',
        RestoreOnDelete: String(props.restoreOnDelete ?? false),
      },
    });

    const noVpc = 'Custom resource handler that only calls the AWS Backup control-plane API once per deployment; it holds no data, and a VPC would need NAT or endpoints without protecting anything';
    const syncDlq = 'Invoked synchronously (by the provider framework, or by CloudFormation through the framework, which reports every failure back to CloudFormation and fails the deployment); a dead-letter queue only receives failed asynchronous invocations';
    for (const fn of [handler, frameworkFunction].filter((f): f is lambda.Function => f !== undefined)) {
      for (const pack of COMPLIANCE_NAG_PACKS) {
        NagAcknowledgements.acknowledge(fn, `${pack}-LambdaInsideVPC`, noVpc);
        NagAcknowledgements.acknowledge(fn, `${pack}-LambdaDLQ`, syncDlq);
      }
    }
    NagAcknowledgements.acknowledge(handlerPolicy, 'AwsSolutions-IAM5[Resource::*]',
      'backup:DescribeRegionSettings and backup:UpdateRegionSettings act on account/Region settings, which have no ARN; IAM only accepts "*" for them');
  }
}
