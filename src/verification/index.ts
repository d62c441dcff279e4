// Public API of the run-time verification; internal plumbing (registrations, requests) stays unexported.
export { VerifiedResourceType } from './verification-constants';
export { ProtectionVerification, VerifiedResource, ProtectionVerificationProps } from './protection-verification';
export { RecoveryPointMonitor } from './recovery-point-monitor';
export { RestoreTesting, MAX_RESTORE_TESTING_SELECTIONS_PER_PLAN, MAX_ARNS_PER_RESTORE_TESTING_SELECTION } from './restore-testing';
export { RestoreDrill, RestoreDrillProps } from './restore-drill';
export {
  BackupComplianceFramework, BackupComplianceFrameworkProps, MAX_CONTROLS_PER_REGION, MAX_FRAMEWORKS_PER_REGION, MAX_REPORT_PLANS_PER_ACCOUNT,
} from './compliance-framework';
export { ResilienceHubPolicy, ResilienceHubPolicyProps } from './resilience-policy';
