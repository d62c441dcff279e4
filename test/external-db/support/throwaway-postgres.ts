/**
 * A throw-away PostgreSQL server (initdb in a temporary directory, its own port) for the test that stops
 * the database server itself mid-dump: the shared server of .ci/services.sh must keep running for the
 * other tests. Binaries from $BDR_PG_BIN_DIR; as root, the server runs as the `postgres` user (initdb
 * refuses root). No TLS: the handler connects with TLS_MODE=disable.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { closedPort } from './services';

const run = promisify(execFile);

export class ThrowawayPostgres {
  public static async create(binDir = process.env.BDR_PG_BIN_DIR): Promise<ThrowawayPostgres> {
    if (!binDir) throw new Error('BDR_PG_BIN_DIR is not set: source .ci/services.sh');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bdr-pg-throwaway-'));
    fs.chmodSync(dir, 0o755);
    const pg = new ThrowawayPostgres(binDir, dir, await closedPort());
    fs.mkdirSync(pg.dataDir, { mode: 0o700 });
    fs.writeFileSync(pg.pwFile, `${pg.password}\n`);
    if (pg.asPostgres) await run('chown', ['-R', 'postgres:postgres', dir]);
    await pg.exec('initdb', ['-D', pg.dataDir, '-U', pg.user, `--pwfile=${pg.pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
    fs.appendFileSync(pg.conf, '\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 20\n');
    await pg.start();
    return pg;
  }

  public readonly host = '127.0.0.1';
  public readonly user = 'bdr_throwaway';
  public readonly password = 'throwaway-Secret-1';
  private readonly asPostgres = process.getuid?.() === 0;

  private constructor(private readonly binDir: string, private readonly dir: string, public readonly port: number) {}

  private get dataDir(): string { return path.join(this.dir, 'data'); }
  private get pwFile(): string { return path.join(this.dir, 'pw'); }
  private get conf(): string { return path.join(this.dataDir, 'postgresql.conf'); }

  public async start(): Promise<void> {
    await this.exec('pg_ctl', ['-D', this.dataDir, '-l', path.join(this.dir, 'log'), '-w', '-t', '60',
      '-o', `-c listen_addresses=${this.host} -p ${this.port} -k ${this.dir}`, 'start']);
  }

  /** Stops the server process itself (`immediate`: like a crash or a host going away). */
  public async stop(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop']);
  }

  public async destroy(): Promise<void> {
    try {
      await this.stop('immediate');
    } catch {
      // not running
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** psql as the superuser; returns stdout. */
  public async sql(database: string, sql: string): Promise<string> {
    const { stdout } = await run('psql', ['-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      env: { ...process.env, PGHOST: this.host, PGPORT: String(this.port), PGUSER: this.user, PGPASSWORD: this.password, PGDATABASE: database, PGSSLMODE: 'disable' },
    });
    return stdout;
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    const bin = path.join(this.binDir, tool);
    if (this.asPostgres) await run('runuser', ['-u', 'postgres', '--', bin, ...args]);
    else await run(bin, args);
  }
}
