import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { checkRange, inScope } from '../core/validation';

/** @internal Sid of the key policy statement that limits `kms:CreateGrant` to AWS services. */
export const CREATE_GRANT_STATEMENT_SID = 'DenyCreateGrantExceptForAwsServices';

/** Properties of a key created by `BackupKey.create`. */
export interface BackupKeyProps {
  /**
   * Description of the key (shown in the KMS console and in CloudTrail).
   * @default - "cdk-backup-dr key for <construct path>"
   */
  readonly description?: string;
  /**
   * What happens to the key when it is removed from the stack. Keys encrypt backups that outlive
   * the stack, so they are kept by default.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Period after which KMS rotates the key material (automatic rotation is always on).
   * @default Duration.days(365)
   */
  readonly rotationPeriod?: Duration;
  /**
   * Waiting period before a key scheduled for deletion is deleted (7 to 30 days).
   * @default Duration.days(30)
   */
  readonly pendingWindow?: Duration;
  /**
   * Alias of the key (without the `alias/` prefix it is added).
   * @default - no alias
   */
  readonly alias?: string;
}

/**
 * The one factory for the customer-managed keys cdk-backup-dr creates: symmetric, automatic rotation on,
 * kept when removed from the stack, and a key policy in which only AWS services may create grants
 * (AWS Control Tower proactive control CT.KMS.PR.3): a `Deny` of `kms:CreateGrant` to every principal
 * unless the grant is for an AWS resource (`kms:GrantIsForAWSResource`, set when an integrated service such
 * as RDS, DynamoDB, Lambda or AWS Backup creates it on the caller's behalf) or the caller is an AWS service
 * (`aws:PrincipalIsAWSService`). Services keep working; a person or workload can no longer hand out
 * long-lived grants on a key that protects backups.
 */
export class BackupKey {
  /** Create a hardened customer-managed key (see the class documentation). */
  public static create(scope: Construct, id: string, props: BackupKeyProps = {}): kms.Key {
    return inScope(scope, () => {
      checkDays(props.rotationPeriod, 90, 2560, 'rotationPeriod', 'KMS rotates key material every 90 to 2560 days');
      checkDays(props.pendingWindow, 7, 30, 'pendingWindow', 'KMS waits 7 to 30 days before deleting a key scheduled for deletion');
      const key = new kms.Key(scope, id, {
        description: props.description ?? `cdk-backup-dr key for ${scope.node.path}/${id}`,
        enableKeyRotation: true,
        rotationPeriod: props.rotationPeriod,
        pendingWindow: props.pendingWindow,
        alias: props.alias,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      BackupKey.restrictGrantsToAwsServices(key);
      return key;
    });
  }

  /**
   * Add the CT.KMS.PR.3 statement to the policy of a key defined in this app (for keys created by
   * other constructs, e.g. `new kms.Key(...)` in application code). Returns false when the key's policy
   * cannot be edited here (an imported key): its owner must add the statement.
   */
  public static restrictGrantsToAwsServices(key: kms.IKey): boolean {
    return key.addToResourcePolicy(BackupKey.createGrantStatement(), true).statementAdded;
  }

  /** The key policy statement CT.KMS.PR.3 expects, for key policies written by hand. */
  public static createGrantStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: CREATE_GRANT_STATEMENT_SID,
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      // CT.KMS.PR.3 checks for exactly this shape: BoolIfExists with both keys "false".
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    });
  }

  private constructor() {}
}

function checkDays(d: Duration | undefined, min: number, max: number, prop: string, fix: string): void {
  if (d === undefined || d.isUnresolved()) return;
  checkRange(d.toDays({ integral: false }), min, max, `${prop} (days)`, fix);
}
