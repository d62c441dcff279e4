/**
 * A small IAM policy evaluator for tests: enough of the IAM evaluation logic to ask "is this principal
 * allowed to call this action on this recovery point?" of the statements a template renders.
 * Supports Action/Resource globs, Principal "*" / {AWS: "*"}, and the condition operators the library
 * uses (StringEquals, StringNotEquals, StringLike, ArnNotLike, ArnNotEquals, Bool, BoolIfExists).
 */

export interface RequestContext {
  readonly action: string;
  readonly resource: string;
  /** Tags of the recovery point (aws:ResourceTag/...). */
  readonly resourceTags?: Record<string, string>;
  /** Tags of the calling principal (aws:PrincipalTag/...). */
  readonly principalTags?: Record<string, string>;
  readonly principalArn?: string;
  readonly principalIsAwsService?: boolean;
}

/** Resolves the intrinsics a synthesized ARN contains (partition, region, account refs; joins). */
export function resolveValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveValue);
  if (value && typeof value === 'object') {
    const o = value as Record<string, any>;
    if (o.Ref === 'AWS::Partition') return 'aws';
    if (o.Ref === 'AWS::Region') return 'eu-west-1';
    if (o.Ref === 'AWS::AccountId') return '111111111111';
    if (o.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
    if (o.Ref) return `<${o.Ref}>`;
    if (o['Fn::GetAtt']) return `<${o['Fn::GetAtt'].join('.')}>`;
    if (o['Fn::Join']) return (resolveValue(o['Fn::Join'][1]) as unknown[]).join(o['Fn::Join'][0]);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveValue(v)]));
  }
  return value;
}

function glob(pattern: string, value: string): boolean {
  const re = new RegExp('^' + pattern.split('').map((c) => c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('') + '$', 'i');
  return re.test(value);
}

const list = (v: unknown): string[] => (v === undefined ? [] : [v].flat().map(String));

function contextValue(key: string, ctx: RequestContext): string | undefined {
  const [prefix, tagKey] = key.split(/\/(.*)/s);
  if (prefix === 'aws:ResourceTag') return ctx.resourceTags?.[tagKey];
  if (prefix === 'aws:PrincipalTag') return ctx.principalTags?.[tagKey];
  if (key === 'aws:PrincipalArn') return ctx.principalArn;
  if (key === 'aws:PrincipalIsAWSService') return String(ctx.principalIsAwsService ?? false);
  return undefined;
}

function conditionHolds(condition: Record<string, Record<string, unknown>> | undefined, ctx: RequestContext): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      const actual = contextValue(key, ctx);
      const values = list(expected);
      switch (operator) {
        case 'StringEquals': if (actual === undefined || !values.includes(actual)) return false; break;
        case 'StringLike': if (actual === undefined || !values.some((v) => glob(v, actual))) return false; break;
        case 'StringNotEquals': if (actual !== undefined && values.includes(actual)) return false; break;
        case 'ArnNotLike': if (actual !== undefined && values.some((v) => glob(v, actual))) return false; break;
        case 'ArnNotEquals': if (actual !== undefined && values.includes(actual)) return false; break;
        case 'Bool': if (actual === undefined || !values.includes(actual)) return false; break;
        case 'BoolIfExists': if (actual !== undefined && !values.includes(actual)) return false; break;
        default: throw new Error(`policy simulator: unsupported condition operator ${operator}`);
      }
    }
  }
  return true;
}

function statementMatches(st: any, ctx: RequestContext): boolean {
  const s = resolveValue(st) as any;
  return list(s.Action).some((a) => glob(a, ctx.action))
    && list(s.Resource).some((r) => glob(r, ctx.resource))
    && conditionHolds(s.Condition, ctx);
}

/** Identity-policy evaluation: allowed when an Allow matches and no Deny does. */
export function identityAllows(statements: any[], ctx: RequestContext): boolean {
  if (statements.some((s) => s.Effect === 'Deny' && statementMatches(s, ctx))) return false;
  return statements.some((s) => s.Effect === 'Allow' && statementMatches(s, ctx));
}

/** Whether a resource policy (e.g. a vault access policy) explicitly denies the request. */
export function resourcePolicyDenies(statements: any[], ctx: RequestContext): boolean {
  return statements.some((s) => s.Effect === 'Deny'
    && (s.Principal === '*' || s.Principal?.AWS === '*')
    && statementMatches(s, ctx));
}
