export * from './verification-constants';
export * from './protection-verification';
export * from './recovery-point-monitor';
export * from './restore-testing';
export * from './compliance-framework';
export * from './restore-drill';
