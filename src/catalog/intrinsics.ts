/**
 * Turns the CloudFormation JSON that tokens resolve to in a cloud assembly (`Ref`, `Fn::GetAtt`,
 * `Fn::Join`, `Fn::ImportValue`, ...) into text a person can find in the console: physical names
 * where the template sets them, otherwise a readable "assigned at deploy" reference.
 *
 * Pure functions over a read-only view of the assembly (no aws-cdk-lib dependency), shared by the
 * synth-time writer and the CLI.
 */

/** A template as read from the assembly. */
export interface TemplateJson {
  readonly Resources?: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }>;
  readonly Parameters?: Record<string, { readonly Default?: unknown }>;
}

/** One stack of the assembly, as the resolver sees it. */
export interface StackView {
  /** Artifact id. */
  readonly artifactId: string;
  /** CloudFormation stack name. */
  readonly stackName: string;
  /** Hierarchical display name (e.g. "Stage/Stack"). */
  readonly displayName: string;
  /** Account, or undefined when environment-agnostic. */
  readonly account?: string;
  /** Region, or undefined when environment-agnostic. */
  readonly region?: string;
  /** The template. */
  readonly template: TemplateJson;
}

/** A value only known once the stack is deployed. */
export interface DeployTimeValue {
  /** Stack that assigns it. */
  readonly stack: StackView;
  /** Logical id (or pseudo parameter) it comes from. */
  readonly logicalId: string;
  /** Attribute of `Fn::GetAtt`; undefined for `Ref`. */
  readonly attribute?: string;
}

/** Resolved text: literal pieces and deploy-time values, in order. */
export type Segment = string | DeployTimeValue;

/** Ref of these resource types returns the value of this property (when the template sets it). */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::RDS::DBInstance': 'DBInstanceIdentifier',
  'AWS::RDS::DBCluster': 'DBClusterIdentifier',
  'AWS::Backup::BackupVault': 'BackupVaultName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::ECS::Cluster': 'ClusterName',
};

/** RDS stores identifiers in lower case. */
const LOWER_CASE_NAMES = new Set(['AWS::RDS::DBInstance', 'AWS::RDS::DBCluster']);

type ArnBuilder = (name: Segment[], s: StackView) => Segment[];

/** Attributes derivable from the physical name: `Fn::GetAtt [X, attr]` for these types. */
const ATTRIBUTES: Record<string, Record<string, ArnBuilder>> = {
  'AWS::Backup::BackupVault': {
    BackupVaultName: (n) => n,
    BackupVaultArn: (n, s) => [`arn:${partition(s)}:backup:`, ...region(s), ':', ...account(s), ':backup-vault:', ...n],
  },
  'AWS::S3::Bucket': {
    Arn: (n, s) => [`arn:${partition(s)}:s3:::`, ...n],
    DomainName: (n, s) => [...n, `.s3.${urlSuffix(s)}`],
    RegionalDomainName: (n, s) => [...n, '.s3.', ...region(s), `.${urlSuffix(s)}`],
  },
  'AWS::DynamoDB::Table': { Arn: tableArn },
  'AWS::DynamoDB::GlobalTable': { Arn: tableArn },
  'AWS::RDS::DBInstance': { DBInstanceArn: (n, s) => [`arn:${partition(s)}:rds:`, ...region(s), ':', ...account(s), ':db:', ...n] },
  'AWS::RDS::DBCluster': { DBClusterArn: (n, s) => [`arn:${partition(s)}:rds:`, ...region(s), ':', ...account(s), ':cluster:', ...n] },
  'AWS::IAM::Role': { Arn: (n, s) => [`arn:${partition(s)}:iam::`, ...account(s), ':role/', ...n] },
  'AWS::Lambda::Function': { Arn: (n, s) => [`arn:${partition(s)}:lambda:`, ...region(s), ':', ...account(s), ':function:', ...n] },
};

function tableArn(n: Segment[], s: StackView): Segment[] {
  return [`arn:${partition(s)}:dynamodb:`, ...region(s), ':', ...account(s), ':table/', ...n];
}

function region(s: StackView): Segment[] {
  return [s.region ?? { stack: s, logicalId: 'AWS::Region' }];
}

function account(s: StackView): Segment[] {
  return [s.account ?? { stack: s, logicalId: 'AWS::AccountId' }];
}

/** Partition of a region (aws, aws-cn, aws-us-gov, ...). */
export function partition(s: { readonly region?: string }): string {
  const r = s.region ?? '';
  if (r.startsWith('cn-')) return 'aws-cn';
  if (r.startsWith('us-gov-')) return 'aws-us-gov';
  if (r.startsWith('us-iso-')) return 'aws-iso';
  if (r.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

function urlSuffix(s: StackView): string {
  return partition(s) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** Resolves CloudFormation JSON found in one stack of an assembly. */
export class IntrinsicResolver {
  constructor(private readonly stacks: readonly StackView[]) {}

  /** Resolve `value` as found in `stack` (its template, env and exports of the other stacks). */
  public resolve(value: unknown, stack: StackView, depth = 0): Segment[] {
    if (depth > 20) return [unknownValue(stack, 'deeply nested value')];
    if (value === undefined || value === null) return [];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return [String(value)];
    if (Array.isArray(value)) return join(value.map((v) => this.resolve(v, stack, depth + 1)), ',');
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length !== 1) return [unknownValue(stack, 'object')];
    const [fn] = keys;
    const arg = obj[fn];
    switch (fn) {
      case 'Ref': return this.ref(String(arg), stack, depth);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/s);
        return this.getAtt(logicalId, attribute, stack, depth);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        const list = Array.isArray(parts) ? parts : [parts];
        return join(list.map((p) => this.resolve(p, stack, depth + 1)), String(sep));
      }
      case 'Fn::Sub': return this.sub(arg, stack, depth);
      case 'Fn::ImportValue': return this.importValue(arg, stack, depth);
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const i = Number(literal(this.resolve(index, stack, depth + 1)));
        if (Array.isArray(list) && Number.isInteger(i) && i >= 0 && i < list.length) return this.resolve(list[i], stack, depth + 1);
        const items = this.list(list, stack, depth);
        return items && Number.isInteger(i) && i >= 0 && i < items.length ? [items[i]] : [unknownValue(stack, 'Fn::Select')];
      }
      case 'Fn::Split': {
        // Only meaningful inside Fn::Select; a bare split renders its pieces comma-separated.
        const items = this.list(value, stack, depth);
        return items ? [items.join(',')] : [unknownValue(stack, 'Fn::Split')];
      }
      default: return [unknownValue(stack, fn)];
    }
  }

  /** Resolve to a literal string, or undefined when part of it is only known at deploy. */
  public literal(value: unknown, stack: StackView): string | undefined {
    return literal(this.resolve(value, stack));
  }

  private list(value: unknown, stack: StackView, depth: number): string[] | undefined {
    if (Array.isArray(value)) {
      const items = value.map((v) => literal(this.resolve(v, stack, depth + 1)));
      return items.every((i) => i !== undefined) ? items as string[] : undefined;
    }
    const split = (value as Record<string, unknown> | undefined)?.['Fn::Split'];
    if (Array.isArray(split)) {
      const source = literal(this.resolve(split[1], stack, depth + 1));
      return source === undefined ? undefined : source.split(String(split[0]));
    }
    return undefined;
  }

  private ref(logicalId: string, stack: StackView, depth: number): Segment[] {
    switch (logicalId) {
      case 'AWS::Region': return region(stack);
      case 'AWS::AccountId': return account(stack);
      case 'AWS::Partition': return [partition(stack)];
      case 'AWS::URLSuffix': return [urlSuffix(stack)];
      case 'AWS::StackName': return [stack.stackName];
      case 'AWS::NoValue': return [];
      default: break;
    }
    const parameter = stack.template.Parameters?.[logicalId];
    if (parameter) return [{ stack, logicalId: `parameter ${logicalId}`, attribute: 'value' }];
    const resource = stack.template.Resources?.[logicalId];
    const nameProperty = resource ? NAME_PROPERTY[resource.Type] : undefined;
    if (resource && nameProperty && resource.Properties?.[nameProperty] !== undefined) {
      const name = this.resolve(resource.Properties[nameProperty], stack, depth + 1);
      return LOWER_CASE_NAMES.has(resource.Type) ? name.map((s) => typeof s === 'string' ? s.toLowerCase() : s) : name;
    }
    return [{ stack, logicalId }];
  }

  private getAtt(logicalId: string, attribute: string, stack: StackView, depth: number): Segment[] {
    const resource = stack.template.Resources?.[logicalId];
    const builder = resource ? ATTRIBUTES[resource.Type]?.[attribute] : undefined;
    if (builder) return builder(this.ref(logicalId, stack, depth), stack);
    return [{ stack, logicalId, attribute }];
  }

  private sub(arg: unknown, stack: StackView, depth: number): Segment[] {
    const [text, vars] = Array.isArray(arg) ? arg as [string, Record<string, unknown>] : [String(arg), {}];
    const out: Segment[] = [];
    let rest = text;
    for (let m = /\$\{([^}]*)\}/.exec(rest); m; m = /\$\{([^}]*)\}/.exec(rest)) {
      out.push(rest.slice(0, m.index));
      const name = m[1];
      if (name.startsWith('!')) {out.push(`\${${name.slice(1)}}`);} else if (vars && name in vars) {out.push(...this.resolve(vars[name], stack, depth + 1));} else if (name.includes('.')) {
        const [id, attr] = name.split(/\.(.*)/s);
        out.push(...this.getAtt(id, attr, stack, depth));
      } else {out.push(...this.ref(name, stack, depth));}
      rest = rest.slice(m.index + m[0].length);
    }
    out.push(rest);
    return compact(out);
  }

  private importValue(arg: unknown, stack: StackView, depth: number): Segment[] {
    const name = literal(this.resolve(arg, stack, depth + 1));
    if (name !== undefined) {
      for (const other of this.stacks) {
        for (const output of Object.values(other.template.Outputs ?? {})) {
          if (output.Export && literal(this.resolve(output.Export.Name, other, depth + 1)) === name) {
            return this.resolve(output.Value, other, depth + 1);
          }
        }
      }
    }
    return [{ stack, logicalId: `export ${name ?? '(unknown)'}` }];
  }
}

function unknownValue(stack: StackView, what: string): DeployTimeValue {
  return { stack, logicalId: what, attribute: 'value' };
}

function join(parts: Segment[][], sep: string): Segment[] {
  const out: Segment[] = [];
  parts.forEach((p, i) => {
    if (i > 0 && sep) out.push(sep);
    out.push(...p);
  });
  return compact(out);
}

/** Merge adjacent literal pieces, drop empty ones. */
function compact(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    if (s === '') continue;
    const last = out[out.length - 1];
    if (typeof s === 'string' && typeof last === 'string') out[out.length - 1] = last + s;
    else out.push(s);
  }
  return out;
}

/** The text when every piece is literal. */
export function literal(segments: Segment[]): string | undefined {
  return segments.every((s) => typeof s === 'string') ? segments.join('') : undefined;
}

/**
 * Text for a person: deploy-time values as "{assigned at deploy: stack X, logical id Y}" (braces, not angle
 * brackets: Markdown would take those for HTML).
 */
export function displayText(segments: Segment[]): string {
  return segments.map((s) => typeof s === 'string' ? s : describeDeployTime(s)).join('');
}

/** A deploy-time value, readable. */
export function describeDeployTime(v: DeployTimeValue): string {
  const where = `stack ${v.stack.stackName}`;
  if (v.logicalId === 'AWS::Region') return `{region of ${where}, known at deploy}`;
  if (v.logicalId === 'AWS::AccountId') return `{account of ${where}, known at deploy}`;
  if (v.attribute === 'value') return `{${v.logicalId}, known at deploy: ${where}}`;
  if (v.logicalId.startsWith('export ')) return `{${v.logicalId}, known at deploy}`;
  if (v.attribute) return `{${v.attribute} assigned at deploy: ${where}, logical id ${v.logicalId}}`;
  return `{assigned at deploy: ${where}, logical id ${v.logicalId}}`;
}

/**
 * Text for a shell command: a resource's physical id becomes a `describe-stack-resource` lookup that
 * works once the stack is deployed; other deploy-time values stay readable placeholders.
 */
export function shellText(segments: Segment[]): string {
  return segments.map((s) => {
    if (typeof s === 'string') return s;
    const isResourceRef = !s.attribute && !s.logicalId.includes('::') && !s.logicalId.startsWith('export ')
      && s.stack.template.Resources?.[s.logicalId] !== undefined;
    if (!isResourceRef) return describeDeployTime(s);
    const regionFlag = s.stack.region ? ` --region ${s.stack.region}` : '';
    return `$(aws cloudformation describe-stack-resource${regionFlag} --stack-name ${s.stack.stackName} ` +
      `--logical-resource-id ${s.logicalId} --query StackResourceDetail.PhysicalResourceId --output text)`;
  }).join('');
}
