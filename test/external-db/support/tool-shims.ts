/**
 * Broken versions of the real tools (pg_dump, mariadb-dump, zstd), put first on the PATH the handler's
 * children inherit (`BackupDeps.baseEnv`). `--version` passes through, so the version checks still see
 * the real tool. Behaviours:
 *
 * - `fail-after-output`: runs the real tool to completion, closes its stdout (the reader sees EOF and the
 *   whole, valid output), waits `delaySeconds`, then exits with `exitCode`: the failure arrives after the
 *   last byte, when the upload may already be complete.
 * - `fail-midstream`: passes `afterBytes` bytes of stdin through the real tool, then exits with
 *   `exitCode` (the tool before it in the pipe gets EPIPE).
 * - `wrap`: runs the shell command `before`, the real tool, then `after` (with the tool's environment:
 *   writes to the database just before the dump starts and just after it ended), and exits with the tool's code.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface ShimSpec {
  readonly tool: string;
  readonly behaviour: 'fail-after-output' | 'fail-midstream' | 'wrap';
  readonly exitCode?: number;
  readonly delaySeconds?: number;
  readonly afterBytes?: number;
  /** `wrap`: shell commands run before and after the real tool (their output goes to stderr). */
  readonly before?: string;
  readonly after?: string;
}

export interface Shims {
  /** Environment for `BackupDeps.baseEnv`. */
  readonly env: NodeJS.ProcessEnv;
  readonly dir: string;
  remove(): void;
}

export const shQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

export function realToolPath(tool: string): string {
  return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
}

export function installShims(specs: ShimSpec[]): Shims {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bdr-shims-'));
  for (const spec of specs) {
    const real = shQuote(realToolPath(spec.tool));
    const code = spec.exitCode ?? 3;
    const body = spec.behaviour === 'fail-after-output'
      ? `${real} "$@"\nexec 1>&-\nsleep ${spec.delaySeconds ?? 1.5}\necho "${spec.tool}: injected failure after the last byte" >&2\nexit ${code}\n`
      : spec.behaviour === 'wrap'
        ? `{ ${spec.before ?? ':'}; } >&2 || exit 9\n${real} "$@"\nrc=$?\n{ ${spec.after ?? ':'}; } >&2 || exit 9\nexit $rc\n`
        : `head -c ${spec.afterBytes ?? 65536} | ${real} "$@"\necho "${spec.tool}: injected failure mid-stream" >&2\nexit ${code}\n`;
    const script = `#!/bin/sh\ncase "$1" in --version|-V) exec ${real} "$@";; esac\n${body}`;
    fs.writeFileSync(path.join(dir, spec.tool), script, { mode: 0o755 });
  }
  return {
    dir,
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
