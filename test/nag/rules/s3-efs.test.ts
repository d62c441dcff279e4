import { Tags } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { findingsOf, stackIn } from './findings';
import { BackupCatalogMetadata } from '../../../src/core/catalog-metadata';

describe('S3BucketBackedUp', () => {
  test('a bucket no selection or construct covers is a finding', () => {
    expect(findingsOf('S3BucketBackedUp', (app) => { new s3.Bucket(stackIn(app), 'Data'); }))
      .toEqual(['BackupDR-S3BucketBackedUp at Stack/Data/Resource']);
  });

  test('a bucket selected by construct is compliant', () => {
    expect(findingsOf('S3BucketBackedUp', (app) => {
      const stack = stackIn(app);
      const bucket = new s3.Bucket(stack, 'Data', { versioned: true });
      backup.BackupPlan.daily35DayRetention(stack, 'Plan').addSelection('Sel', { resources: [backup.BackupResource.fromArn(bucket.bucketArn)] });
    })).toEqual([]);
  });

  test('a bucket inside a construct that records an inventory row, or named in its location, is compliant', () => {
    expect(findingsOf('S3BucketBackedUp', (app) => {
      const stack = stackIn(app);
      const archive = new Construct(stack, 'Archive');
      new s3.Bucket(archive, 'Resource');
      const given = new s3.Bucket(stack, 'Given');
      for (const [scope, location] of [[archive, 's3://somewhere'], [new Construct(stack, 'Other'), given.urlForObject('x/')]] as const) {
        BackupCatalogMetadata.record(scope, {
          backupName: scope.node.path,
          content: 'Code',
          periodicity: 'daily',
          environment: 'Dev',
          supportType: 'S3 lifecycle',
          location,
          rpo: '1 day',
          rto: '1 day',
        });
      }
    })).toEqual([]);
  });
});

describe('EFSFileSystemBackedUp', () => {
  const fileSystem = (scope: Construct, enableAutomaticBackups = false) => new efs.FileSystem(scope, 'Files', {
    vpc: new ec2.Vpc(scope, 'Vpc', { maxAzs: 1, natGateways: 0 }), enableAutomaticBackups,
  });

  test('a file system with EFS automatic backups (AWS Backup default plan) is compliant', () => {
    expect(findingsOf('EFSFileSystemBackedUp', (app) => { fileSystem(stackIn(app), true); })).toEqual([]);
  });

  test('a file system no selection covers is a finding', () => {
    expect(findingsOf('EFSFileSystemBackedUp', (app) => { fileSystem(stackIn(app)); }))
      .toEqual(['BackupDR-EFSFileSystemBackedUp at Stack/Files/Resource']);
  });

  test('a file system selected by tag (ListOfTags) is compliant', () => {
    expect(findingsOf('EFSFileSystemBackedUp', (app) => {
      const stack = stackIn(app);
      Tags.of(fileSystem(stack)).add('backup', 'yes');
      backup.BackupPlan.daily35DayRetention(stack, 'Plan').addSelection('Sel', { resources: [backup.BackupResource.fromTag('backup', 'yes')] });
    })).toEqual([]);
  });
});
