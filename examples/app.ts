#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildExampleApp } from './example-stacks';
import { BackupCatalog } from '../src';

const app = new App();
buildExampleApp(app);
// Writes the backup inventory and the DR runbook into cdk.out at synth.
BackupCatalog.of(app);
app.synth();
