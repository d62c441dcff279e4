import * as fs from 'fs';
import * as path from 'path';
import { StackView, TemplateJson } from './intrinsics';
import { CATALOG_METADATA_TYPE } from '../core/catalog-metadata';

/**
 * Metadata type of the DR site's strategy report (the same string as `DR_SITE_METADATA_TYPE` of
 * src/dr; the catalog reads metadata, it does not import constructs).
 */
export const DR_SITE_METADATA = 'cdk-backup-dr:dr-site';

/** A problem with the assembly the catalog reads: the CLI prints the message and exits non-zero. */
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

/** A metadata entry of one construct of a stack. */
export interface AssemblyMetadata {
  /** Construct path, without the leading slash. */
  readonly path: string;
  /** Metadata type. */
  readonly type: string;
  /** Data, with tokens resolved to CloudFormation JSON by the CDK. */
  readonly data: unknown;
}

/** A stack of the assembly with its metadata. */
export interface AssemblyStack extends StackView {
  /** Metadata entries of the stack's constructs, in construct-tree order. */
  readonly metadata: AssemblyMetadata[];
}

/** What the catalog reads from a cloud assembly. */
export interface AssemblyContents {
  /** Absolute directory of the assembly. */
  readonly directory: string;
  /** Stacks, in manifest order (nested assemblies of stages included). */
  readonly stacks: AssemblyStack[];
}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly displayName?: string;
  readonly properties?: { readonly templateFile?: string; readonly stackName?: string; readonly directoryName?: string };
  readonly metadata?: Record<string, Array<{ type: string; data?: unknown }>>;
  readonly additionalMetadataFile?: string;
}

/**
 * Read a cloud assembly directory: manifest.json, each stack's template and its construct metadata
 * (inline in the manifest or in the stack's additional metadata file), recursing into the nested
 * assemblies of stages.
 */
export function readAssembly(directory: string): AssemblyContents {
  const dir = path.resolve(directory);
  if (!fs.existsSync(dir)) {
    throw new CatalogError(`${directory}: no such directory. Synthesize the app first (npx cdk synth), or pass the cloud assembly directory (default: cdk.out)`);
  }
  if (!fs.statSync(dir).isDirectory()) {
    throw new CatalogError(`${directory} is not a directory; pass the cloud assembly directory that cdk synth wrote (default: cdk.out)`);
  }
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    throw new CatalogError(`${directory} is not a cloud assembly: it has no manifest.json. Pass the directory cdk synth wrote (default: cdk.out, or the -o/--output of cdk synth)`);
  }
  const stacks: AssemblyStack[] = [];
  readInto(dir, stacks, 0);
  return { directory: dir, stacks };
}

function readInto(dir: string, stacks: AssemblyStack[], depth: number): void {
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = readJson(manifestFile) as { artifacts?: Record<string, ManifestArtifact> };
  if (typeof manifest !== 'object' || manifest === null || typeof (manifest as { version?: unknown }).version !== 'string') {
    throw new CatalogError(`${manifestFile} is not a cloud assembly manifest (no "version"); pass the directory cdk synth wrote`);
  }
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName && depth < 10) {
      readInto(path.join(dir, artifact.properties.directoryName), stacks, depth + 1);
      continue;
    }
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const env = /^aws:\/\/([^/]*)\/(.*)$/.exec(artifact.environment ?? '');
    const known = (v: string | undefined) => (v && !v.startsWith('unknown-') ? v : undefined);
    stacks.push({
      artifactId,
      stackName: artifact.properties.stackName ?? artifactId,
      displayName: artifact.displayName ?? artifactId,
      account: known(env?.[1]),
      region: known(env?.[2]),
      template: readJson(path.join(dir, artifact.properties.templateFile)) as TemplateJson,
      metadata: metadataOf(dir, artifact),
    });
  }
}

function metadataOf(dir: string, artifact: ManifestArtifact): AssemblyMetadata[] {
  const byPath: Record<string, Array<{ type: string; data?: unknown }>> = { ...(artifact.metadata ?? {}) };
  if (artifact.additionalMetadataFile) {
    const extra = readJson(path.join(dir, artifact.additionalMetadataFile)) as typeof byPath;
    for (const [p, entries] of Object.entries(extra)) byPath[p] = [...(byPath[p] ?? []), ...entries];
  }
  return Object.entries(byPath).flatMap(([p, entries]) =>
    entries.map((e) => ({ path: p.replace(/^\//, ''), type: e.type, data: e.data })));
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf-8');
  } catch (e) {
    throw new CatalogError(`cannot read ${file}: ${(e as Error).message}; the cloud assembly is incomplete, synthesize again`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CatalogError(`${file} is not valid JSON (${(e as Error).message}); the cloud assembly is damaged, synthesize again`);
  }
}

/** Whether any stack of the assembly has a catalog entry. */
export function hasCatalogEntries(contents: AssemblyContents): boolean {
  return contents.stacks.some((s) => s.metadata.some((m) => m.type === CATALOG_METADATA_TYPE));
}
