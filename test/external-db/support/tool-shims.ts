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
 * - `append-output`: runs the real tool, then writes `output` to its stdout (after the tool's last byte),
 *   and exits with the tool's code: a dump with a statement the real tool would not write.
 * - `slow-to-stop`: writes its pid to `<dir>/<tool>.pid`, runs the real tool, and keeps its stdout open
 *   after the real tool ended (at most `holdSeconds`), so it is still running whenever the backup fails.
 *   On SIGTERM it appends a line to `<dir>/<tool>.term`, kills the real tool, and only exits (143) after
 *   `lingerSeconds`: a tool that takes a while to stop (it must stay under the handler's 2 s before SIGKILL).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface ShimSpec {
  readonly tool: string;
  readonly behaviour: 'fail-after-output' | 'fail-midstream' | 'wrap' | 'append-output' | 'slow-to-stop';
  readonly exitCode?: number;
  readonly delaySeconds?: number;
  readonly afterBytes?: number;
  /** `wrap`: shell commands run before and after the real tool (their output goes to stderr). */
  readonly before?: string;
  readonly after?: string;
  /** `append-output`: the bytes written to stdout after the real tool's output. */
  readonly output?: string;
  /** `slow-to-stop`: seconds between SIGTERM and the exit. @default 1.5 */
  readonly lingerSeconds?: number;
  /** `slow-to-stop`: seconds the stdout is held open after the real tool ended. @default 30 */
  readonly holdSeconds?: number;
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
    const script = `#!/bin/sh\ncase "$1" in --version|-V) exec ${real} "$@";; esac\n${extraBody(spec, real, dir) ?? body}`;
    fs.writeFileSync(path.join(dir, spec.tool), script, { mode: 0o755 });
  }
  return {
    dir,
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The script of the `append-output` and `slow-to-stop` behaviours (undefined for the others). */
function extraBody(spec: ShimSpec, real: string, dir: string): string | undefined {
  if (spec.behaviour !== 'append-output' && spec.behaviour !== 'slow-to-stop') return undefined;
  if (spec.behaviour === 'append-output') {
    return `${real} "$@"\nrc=$?\nprintf '%s' ${shQuote(spec.output ?? '')}\nexit $rc\n`;
  }
  const file = (ext: string) => shQuote(path.join(dir, `${spec.tool}.${ext}`));
  // The real tool runs in the background (with the shim's stdin: an asynchronous command would get
  // /dev/null) so that `wait` returns, and the trap runs, as soon as SIGTERM arrives.
  return [
    `pidfile=${file('pid')}; termfile=${file('term')}`,
    'echo $$ > "$pidfile"',
    'child=; holder=',
    'trap \'echo SIGTERM >> "$termfile"; [ -n "$child" ] && kill "$child" 2>/dev/null; ' +
      `[ -n "$holder" ] && kill "$holder" 2>/dev/null; sleep ${spec.lingerSeconds ?? 1.5}; exit 143' TERM`,
    'exec 3<&0',
    `${real} "$@" <&3 3<&- &`,
    'child=$!',
    'wait "$child"; rc=$?; child=',
    `sleep ${spec.holdSeconds ?? 30} </dev/null >/dev/null 2>&1 &`,
    'holder=$!',
    'wait "$holder"',
    'exit $rc',
    '',
  ].join('\n');
}
