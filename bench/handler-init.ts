/**
 * Cold-start init time of the Lambda handler bundles, unminified (as in assets/) against minified with a
 * source map (esbuild --minify --sourcemap, built here into a temporary directory from the same entry
 * points and options as the `bundle` task).
 *
 *   npx ts-node --prefer-ts-exts bench/handler-init.ts          # BENCH_INIT_RUNS (default 21) per variant
 *
 * Measured per bundle and variant, in fresh Node processes, alternating the variants run by run:
 *   - `requireMs`: time to `require()` the bundle (read, parse, compile, run its top level), taken inside
 *     the process with process.hrtime around the require: what the Lambda init phase spends on our code;
 *   - `processMs`: spawn to exit of `node -e 'require(bundle)'` (adds Node's own start-up, the same for both);
 *   - the minified variant once more with NODE_OPTIONS=--enable-source-maps (how the function should run
 *     to keep readable stack traces), which reads and parses the .map when the bundle loads.
 * Reports the medians, the min–max, sizes, and the ratios minified / unminified. Results:
 * bench/.out/handler-init.json. Runs on Node 20 here; Lambda runs Node 22 (the target of the bundles).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '..');
const OUT = path.join(__dirname, '.out');

/** The bundles of the `bundle` task (.projenrc.ts): asset name → entry point. */
const BUNDLES: Record<string, string> = {
  'backup-region-settings': 'src/dynamodb/handler/region-settings.ts',
  'scheduled-export': 'src/foundation/handler/scheduled-export.ts',
  'external-db-dump': 'src/external-db/handler/index.ts',
};

interface Variant { readonly name: string; readonly file: string; readonly nodeOptions?: string }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r2 = (n: number) => Math.round(n * 100) / 100;

/** One fresh process: require time measured inside, process time outside. */
function once(v: Variant): { requireMs: number; processMs: number } {
  const script = 'const t=process.hrtime.bigint();require(process.argv[1]);' +
    'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));';
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', script, v.file], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_NO_WARNINGS: '1', AWS_REGION: 'us-east-1', ...(v.nodeOptions ? { NODE_OPTIONS: v.nodeOptions } : {}) },
  });
  const processMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`loading ${v.file} failed: ${r.stderr}`);
  return { requireMs: Number(r.stdout), processMs };
}

function main(): void {
  const runs = Number(process.env.BENCH_INIT_RUNS ?? '21');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'handler-init-'));
  const results: Array<Record<string, unknown>> = [];
  for (const [name, entry] of Object.entries(BUNDLES)) {
    const asset = path.join(ROOT, 'assets', name, 'index.js');
    if (!fs.existsSync(asset)) throw new Error(`${asset} is missing: run \`npx projen bundle\` first`);
    const minFile = path.join(tmp, name, 'index.js');
    // Same options as the bundle task, plus --minify --sourcemap.
    buildSync({
      entryPoints: [path.join(ROOT, entry)],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      sourcemap: true,
      outfile: minFile,
      logLevel: 'warning',
    });
    const variants: Variant[] = [
      { name: 'unminified', file: asset },
      { name: 'minified', file: minFile },
      { name: 'minified+enable-source-maps', file: minFile, nodeOptions: '--enable-source-maps' },
    ];
    const samples: Record<string, Array<{ requireMs: number; processMs: number }>> = {};
    for (const v of variants) once(v); // warm the page cache, not measured
    for (let i = 0; i < runs; i++) for (const v of variants) (samples[v.name] ??= []).push(once(v));
    const summary = Object.fromEntries(variants.map((v) => {
      const req = samples[v.name].map((s) => s.requireMs);
      const proc = samples[v.name].map((s) => s.processMs);
      return [v.name, {
        bytes: fs.statSync(v.file).size,
        requireMs: { median: r2(median(req)), min: r2(Math.min(...req)), max: r2(Math.max(...req)) },
        processMs: { median: r2(median(proc)), min: r2(Math.min(...proc)), max: r2(Math.max(...proc)) },
      }];
    })) as Record<string, { bytes: number; requireMs: { median: number }; processMs: { median: number } }>;
    const base = summary.unminified;
    const row = {
      bundle: name,
      mapBytes: fs.statSync(`${minFile}.map`).size,
      ...summary,
      ratios: {
        size: r2(summary.minified.bytes / base.bytes),
        requireMs: r2(summary.minified.requireMs.median / base.requireMs.median),
        processMs: r2(summary.minified.processMs.median / base.processMs.median),
        requireMsWithSourceMaps: r2(summary['minified+enable-source-maps'].requireMs.median / base.requireMs.median),
      },
    };
    results.push(row);
    console.log(`${name}: ${(base.bytes / 1e6).toFixed(2)} MB → ${(summary.minified.bytes / 1e6).toFixed(2)} MB (+ ${(row.mapBytes / 1e6).toFixed(2)} MB map); ` +
      `require ${base.requireMs.median} → ${summary.minified.requireMs.median} ms (x${row.ratios.requireMs}), ` +
      `with --enable-source-maps ${summary['minified+enable-source-maps'].requireMs.median} ms (x${row.ratios.requireMsWithSourceMaps}); ` +
      `process ${base.processMs.median} → ${summary.minified.processMs.median} ms (x${row.ratios.processMs})`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'handler-init.json'), JSON.stringify({
    when: new Date().toISOString(), node: process.version, runs, loadAverage: os.loadavg(), results,
  }, null, 2));
  console.log(`results: ${path.relative(ROOT, path.join(OUT, 'handler-init.json'))}`);
}

main();
