/**
 * The cdk-nag compliance packs (besides AwsSolutions) whose findings the library acknowledges
 * and tests against. A finding id of these packs is `<pack>-<rule>`, e.g.
 * `HIPAA.Security-S3BucketReplicationEnabled`: acknowledge a compliance rule in every pack with
 * `COMPLIANCE_NAG_PACKS.map((pack) => \`${pack}-<rule>\`)`.
 */
export const COMPLIANCE_NAG_PACKS: readonly string[] = ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'];
