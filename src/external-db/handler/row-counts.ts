/**
 * Row counts of the data in a dump, written to the manifest as `rowCounts` and compared by the restore drill
 * with the restored database (keys: "schema.table" for PostgreSQL, "table" for MySQL/MariaDB).
 *
 * - PostgreSQL: `PgSnapshotSession` opens a REPEATABLE READ READ ONLY transaction, exports its snapshot for
 *   `pg_dump --snapshot`, and counts the rows in that same snapshot after the dump: the counts see exactly
 *   the rows the dump saw.
 * - MySQL/MariaDB: `mysqldump --single-transaction` cannot share its snapshot, so `MysqlRowCounter` counts the
 *   tuples of the dump's `INSERT INTO ... VALUES (...),(...);` statements as the bytes stream by.
 */
import { Transform, TransformCallback } from 'stream';
import { CommandSpec, Redactor, Tool, ToolError } from './tools';

// ---------------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------------

/**
 * The tables whose rows are counted: the database's ordinary tables (partitions included, partitioned
 * parents not: their rows are the partitions'), without system schemas, temporary tables of other sessions
 * and tables that belong to an extension (pg_dump leaves their data to CREATE EXTENSION).
 */
const PG_COUNTED_TABLES = `FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;

/** One line per table: `schema.table<TAB>rows`, one statement (so it runs in one snapshot). */
export const PG_ROW_COUNTS_SQL = `SELECT format('%s.%s', n.nspname, c.relname) || E'\\t' ||
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
${PG_COUNTED_TABLES} ORDER BY 1`;

/** `LOCK TABLE ... IN ACCESS SHARE MODE` of the counted tables (for `\gexec`): no TRUNCATE or DROP before the count. */
const PG_LOCK_SQL = `SELECT 'LOCK TABLE ' || string_agg(format('%I.%I', n.nspname, c.relname), ', ') || ' IN ACCESS SHARE MODE'
${PG_COUNTED_TABLES} HAVING count(*) > 0`;

/** Parses `name<TAB>count` lines. */
export function parseRowCounts(out: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const tab = line.lastIndexOf('\t');
    if (tab <= 0) continue;
    counts[line.slice(0, tab)] = Number(line.slice(tab + 1));
  }
  return counts;
}

/**
 * A psql session holding the snapshot the dump reads: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`,
 * `pg_export_snapshot()`, ACCESS SHARE locks on the counted tables (as pg_dump takes them; they keep a
 * TRUNCATE, which is not MVCC-safe, or a DROP from changing a table between the end of the dump and the
 * count), then after the dump the count in the same transaction. `close()` always ends the session.
 */
export class PgSnapshotSession {
  /**
   * Opens the session. `timeoutMs` bounds the start (connect, snapshot, locks); the locks wait at most
   * 120 s like pg_dump's `--lock-wait-timeout`. Aborting `signal` stops a session still opening.
   */
  public static async open(
    spec: CommandSpec, redactor: Redactor, context: string, timeoutMs: number, signal?: AbortSignal,
  ): Promise<PgSnapshotSession> {
    const session = new PgSnapshotSession(spec, redactor, context);
    // Aborted (the backup failed while the session was still opening): psql is stopped, open() rejects.
    const cancel = () => session.tool.kill(500);
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      // The session sits idle in its transaction while the dump runs: no server-side idle or transaction
      // timeout may end it (pg_dump turns the same settings off for itself). Row security off: a table whose
      // rows a policy would hide fails the count, as it fails pg_dump.
      await session.step(`SELECT count(set_config(name, CASE WHEN name = 'row_security' THEN 'off' WHEN name = 'lock_timeout' THEN '120s' ELSE '0' END, false))
FROM pg_settings WHERE name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'idle_session_timeout', 'transaction_timeout', 'row_security');`,
      timeoutMs, 'preparing the snapshot session');
      const out = await session.step('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT pg_export_snapshot();', timeoutMs, 'exporting the snapshot');
      const snapshot = out.trim().split('\n').pop() ?? '';
      if (!/^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/i.test(snapshot)) throw new Error(`unexpected snapshot id "${snapshot}"`);
      session.snapshot = snapshot;
      await session.step(`${PG_LOCK_SQL} \\gexec`, timeoutMs, 'locking the tables to count');
      return session;
    } catch (err) {
      await session.close();
      throw err;
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** The exported snapshot, for `pg_dump --snapshot`. */
  public snapshot = '';
  /** Resolves (never rejects) when the session ended before `close()`: the counts cannot be taken. */
  public readonly lost: Promise<Error>;
  private readonly tool: Tool;
  private out = '';
  private steps = 0;
  private closing = false;
  /** Called on new output while a step waits for its marker. */
  private onOutput?: () => void;

  private constructor(spec: CommandSpec, private readonly redactor: Redactor, private readonly context: string) {
    this.tool = new Tool(spec.name, spec.command, spec.args, spec.env, ['pipe', 'pipe', 'pipe']);
    this.tool.child.stdout!.setEncoding('utf8');
    this.tool.child.stdout!.on('data', (d: string) => {
      this.out += d;
      this.onOutput?.();
    });
    this.lost = this.tool.closed.then(() => this.failure('ended unexpectedly'));
    this.lost.catch(() => undefined);
  }

  /** Exact row count of every counted table, in the snapshot of the dump. */
  public async countRows(timeoutMs: number): Promise<Record<string, number>> {
    return parseRowCounts(await this.step(`${PG_ROW_COUNTS_SQL};`, timeoutMs, 'counting rows'));
  }

  /** Ends the transaction and the session (SIGTERM, then SIGKILL, if it does not quit); never throws. */
  public async close(): Promise<void> {
    if (this.closing) {
      await this.tool.closed;
      return;
    }
    this.closing = true;
    if (this.tool.running) {
      const stdin = this.tool.child.stdin!;
      if (stdin.writable) stdin.end('COMMIT;\n\\q\n');
      const timer = setTimeout(() => this.tool.kill(2_000), 5_000);
      timer.unref();
      await this.tool.closed;
      clearTimeout(timer);
    }
    await this.tool.closed;
  }

  /**
   * Runs `sql` (complete statements: ending with `;` or a `\gexec` command, else psql would buffer it and echo
   * the marker at once) and returns its output, up to a marker echoed after it; rejects when psql fails or times out.
   */
  private async step(sql: string, timeoutMs: number, what: string): Promise<string> {
    const marker = `-- bdr-step-${++this.steps} --`;
    this.out = '';
    this.tool.child.stdin!.write(`${sql}\n\\echo '${marker}'\n`);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<string>((resolve, reject) => {
        this.onOutput = () => {
          const at = this.out.indexOf(`${marker}\n`);
          if (at >= 0 && (at === 0 || this.out[at - 1] === '\n')) resolve(this.out.slice(0, at));
        };
        this.onOutput();
        void this.tool.closed.then(() => reject(this.failure(what)));
        if (Number.isFinite(timeoutMs)) {
          timer = setTimeout(() => {
            this.tool.kill(500);
            reject(new ToolError(this.redactor.redact(`${this.tool.name} did not finish ${what} within ${Math.round(timeoutMs / 1000)} s ${this.context}`),
              this.tool.name, { code: null, signal: null }, this.tool.stderr.text()));
          }, Math.max(1, timeoutMs));
        }
      });
    } finally {
      if (timer) clearTimeout(timer);
      this.onOutput = undefined;
    }
  }

  private failure(what: string): ToolError {
    return this.tool.describeFailure(this.redactor, `(snapshot session, ${what}) ${this.context}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// MySQL / MariaDB
// ---------------------------------------------------------------------------------------------------

/** Lexical state: outside or inside a quoted string, identifier or comment. */
const enum Lex { Code, SingleQuote, DoubleQuote, BackQuote, LineComment, BlockComment, BlockCommentStar }
/** Where in a statement the lexer is. */
const enum Mode { Between, Head, Other, Values }
/** Bytes in Code that need the next one to decide: `/` (`/*`?), `/*` and `/*M` (`/*!`, `/*M!`?), `-` (`--`?), `--` (`-- `?). */
const enum Pending { None, Slash, SlashStar, SlashStarM, Dash, DashDash }

const NL = 0x0a;
const QUOTE = 0x27;
const DQUOTE = 0x22;
const BQUOTE = 0x60;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const COMMA = 0x2c;
const SLASH = 0x2f;
const STAR = 0x2a;
const DASH = 0x2d;
const HASH = 0x23;
const BANG = 0x21;
const UPPER_M = 0x4d;
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

const TABLE = '`((?:[^`]|``)+)`';
const INSERT_VALUES = new RegExp(`^INSERT\\s+(?:IGNORE\\s+)?INTO\\s+${TABLE}\\s*(?:\\((?:[^\`)]|\`(?:[^\`]|\`\`)*\`)*\\)\\s*)?VALUES\\s*$`, 'i');
const INSERT_COLUMNS = new RegExp(`^INSERT\\s+(?:IGNORE\\s+)?INTO\\s+${TABLE}\\s*$`, 'i');
const DUMPING_DATA = new RegExp(`^\\s*Dumping data for table ${TABLE}`);
const DELIMITER = /^delimiter\s+(\S+)/i;
/** A statement head longer than this is not an INSERT header we know. */
const HEAD_MAX = 1024 * 1024;

/**
 * Counts the rows of a mysqldump / mariadb-dump SQL stream: the tuples of every top-level
 * `INSERT INTO \`t\` [(columns)] VALUES (...),(...);` statement, per table. Byte by byte and across chunk
 * boundaries it follows what the mysql client follows: single- and double-quoted strings with backslash
 * escapes (`''` is a string ending and another starting), backquoted identifiers, `-- `, `#` and `/* *\/`
 * comments (`/*!...*\/` and `/*M!...*\/` are code), and `DELIMITER` commands, so an INSERT inside a routine
 * or trigger body is not mistaken for data. A table whose data section is empty (`-- Dumping data for table`
 * with no INSERT) counts 0. Hex literals (`--hex-blob`) and numbers contain no byte it reacts to.
 */
export class MysqlRowCounter {
  /** INSERT statements it could not read: when not empty, the counts are incomplete and must not be used. */
  public readonly problems: string[] = [];
  private readonly counts = new Map<string, number>();
  private lex = Lex.Code;
  private mode = Mode.Between;
  private pending = Pending.None;
  private escaped = false;
  private bsBuf: Buffer | undefined;
  private bsPos = -1;
  private delimiter = Buffer.from(';');
  private delimMatched = 0;
  private head = Buffer.alloc(4096);
  private headLen = 0;
  private comment: number[] | undefined;
  private table: string | undefined;
  private depth = 0;
  private rows = 0;

  /** Feeds the next bytes of the dump. */
  public write(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    this.bsBuf = undefined;
    while (i < n) {
      if (this.lex === Lex.SingleQuote || this.lex === Lex.DoubleQuote) i = this.quoted(buf, i);
      else if (this.mode === Mode.Values && this.lex === Lex.Code && this.pending === Pending.None) i = this.values(buf, i);
      else this.step(buf[i++]);
    }
  }

  /** Rows per table, sorted by table name. */
  public result(): Record<string, number> {
    this.flushRows();
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /**
   * Inside a quoted string: skip to its closing quote (a backslash escapes the next byte). Native byte
   * searches (memchr), not a loop over every byte: most of a dump's bytes are inside strings.
   */
  private quoted(buf: Buffer, start: number): number {
    const quote = this.lex === Lex.SingleQuote ? QUOTE : DQUOTE;
    const n = buf.length;
    let i = start;
    if (this.escaped) {
      this.escaped = false;
      i++;
    }
    while (i < n) {
      const q = buf.indexOf(quote, i);
      const b = this.nextBackslash(buf, i);
      if (b < 0 || (q >= 0 && q < b)) {
        if (q < 0) return n;
        this.lex = Lex.Code;
        return q + 1;
      }
      // A backslash first: the byte after it is escaped (maybe in the next chunk).
      i = b + 2;
      if (i > n) {
        this.escaped = true;
        return n;
      }
    }
    return n;
  }

  /** Position of the next backslash at or after `from` in `buf` (-1: none), remembered per buffer. */
  private nextBackslash(buf: Buffer, from: number): number {
    if (this.bsBuf !== buf || (this.bsPos >= 0 && this.bsPos < from)) {
      this.bsBuf = buf;
      this.bsPos = buf.indexOf(BACKSLASH, from);
    }
    return this.bsPos;
  }

  /** The hot loop: the tuples of an INSERT's VALUES list. */
  private values(buf: Buffer, start: number): number {
    const n = buf.length;
    let depth = this.depth;
    let rows = this.rows;
    let i = start;
    for (; i < n; i++) {
      const c = buf[i];
      if (c === RPAREN) {
        if (--depth === 0) rows++;
      } else if (c === LPAREN) {
        depth++;
      } else if (c === QUOTE || c === DQUOTE) {
        this.lex = c === QUOTE ? Lex.SingleQuote : Lex.DoubleQuote;
        i++;
        break;
      } else if (depth <= 0 && c !== COMMA && !isSpace(c)) {
        // The end of the VALUES list (the delimiter, or a clause we do not count in): the rest is an ordinary statement.
        this.depth = 0;
        this.rows = rows;
        this.flushRows();
        this.mode = Mode.Other;
        this.delimMatched = 0;
        this.step(c);
        return i + 1;
      }
    }
    this.depth = depth;
    this.rows = rows;
    return i;
  }

  /** One byte outside quoted strings and the VALUES loop. */
  private step(c: number): void {
    switch (this.lex) {
      case Lex.LineComment:
        if (c === NL) this.endLineComment();
        else if (this.comment && this.comment.length < 4096) this.comment.push(c);
        return;
      case Lex.BlockComment:
        if (c === STAR) this.lex = Lex.BlockCommentStar;
        return;
      case Lex.BlockCommentStar:
        if (c === SLASH) {
          this.lex = Lex.Code;
          this.plain(0x20);
        } else if (c !== STAR) {
          this.lex = Lex.BlockComment;
        }
        return;
      case Lex.BackQuote:
        if (this.mode === Mode.Head) this.appendHead(c);
        if (c === BQUOTE) this.lex = Lex.Code;
        return;
      default:
        this.code(c);
    }
  }

  private code(c: number): void {
    switch (this.pending) {
      case Pending.Slash:
      case Pending.Dash: {
        const first = this.pending === Pending.Slash ? SLASH : DASH;
        this.pending = Pending.None;
        if (c === (first === SLASH ? STAR : DASH)) {
          this.pending = first === SLASH ? Pending.SlashStar : Pending.DashDash;
          return;
        }
        this.plain(first);
        break;
      }
      case Pending.SlashStar:
      case Pending.SlashStarM:
        if (c === UPPER_M && this.pending === Pending.SlashStar) {
          this.pending = Pending.SlashStarM;
          return;
        }
        this.pending = Pending.None;
        if (c === BANG) {
          // An executable comment (`/*!50003 ...*/`, `/*M!...*/`): its content is code, the client sends it as such.
          this.plain(c);
        } else {
          this.lex = Lex.BlockComment;
          this.step(c);
        }
        return;
      case Pending.DashDash:
        this.pending = Pending.None;
        if (c <= 0x20) {
          this.startLineComment();
          if (c === NL) this.endLineComment();
          return;
        }
        this.plain(DASH);
        this.plain(DASH);
        break;
      default:
    }
    if (c === SLASH) this.pending = Pending.Slash;
    else if (c === DASH) this.pending = Pending.Dash;
    else if (c === HASH) this.startLineComment();
    else this.plain(c);
  }

  /** A code byte that starts no comment (the VALUES loop handles its own bytes). */
  private plain(c: number): void {
    if (c === QUOTE || c === DQUOTE || c === BQUOTE) {
      this.delimMatched = 0;
      if (this.mode === Mode.Between) this.startHead();
      if (c === BQUOTE) {
        this.lex = Lex.BackQuote;
        if (this.mode === Mode.Head) this.appendHead(c);
        return;
      }
      this.lex = c === QUOTE ? Lex.SingleQuote : Lex.DoubleQuote;
      if (this.mode === Mode.Head) this.headIsOther('a quoted string');
      return;
    }
    if (this.mode === Mode.Between) {
      if (isSpace(c)) return;
      this.startHead();
    }
    if (this.mode === Mode.Head && DELIMITER_START.test(this.headText(10))) {
      // A client command: `DELIMITER xx` up to the end of the line.
      if (c === NL) {
        this.delimiter = Buffer.from(DELIMITER.exec(this.headText())?.[1] ?? ';');
        this.endStatement();
      } else {
        this.appendHead(c);
      }
      return;
    }
    if (this.matchDelimiter(c)) return;
    if (this.mode !== Mode.Head) return;
    if (c === LPAREN) {
      this.headParen();
      return;
    }
    this.appendHead(isSpace(c) ? 0x20 : c);
    if (this.headLen === 10 && !/^(insert|delimiter)/i.test(this.headText())) this.mode = Mode.Other;
    else if (this.headLen >= HEAD_MAX) this.headIsOther('an INSERT header too long to read');
  }

  /** `(` in a statement's head: the first tuple of an INSERT, its column list, or another statement. */
  private headParen(): void {
    const head = this.headText();
    const insert = INSERT_VALUES.exec(head);
    if (insert) {
      this.table = insert[1].replace(/``/g, '`');
      if (!this.counts.has(this.table)) this.counts.set(this.table, 0);
      this.mode = Mode.Values;
      this.depth = 1;
      this.rows = 0;
      return;
    }
    if (INSERT_COLUMNS.test(head)) {
      this.appendHead(LPAREN);
      return;
    }
    this.headIsOther('an unexpected "("');
  }

  private headIsOther(why: string): void {
    const head = this.headText();
    if (/^INSERT\s/i.test(head)) this.problems.push(`unreadable INSERT statement (${why}): ${head.slice(0, 120)}`);
    this.mode = Mode.Other;
  }

  private matchDelimiter(c: number): boolean {
    const d = this.delimiter;
    if (c === d[this.delimMatched]) {
      if (++this.delimMatched === d.length) {
        if (this.mode === Mode.Head) this.headIsOther('no VALUES list');
        this.endStatement();
        return true;
      }
    } else {
      this.delimMatched = c === d[0] ? 1 : 0;
    }
    return false;
  }

  private startHead(): void {
    this.mode = Mode.Head;
    this.headLen = 0;
  }

  private appendHead(c: number): void {
    if (this.headLen === this.head.length) {
      const bigger = Buffer.alloc(Math.min(HEAD_MAX + 1, this.head.length * 2));
      this.head.copy(bigger);
      this.head = bigger;
    }
    if (this.headLen < this.head.length) this.head[this.headLen++] = c;
  }

  private headText(max = this.headLen): string {
    return this.head.toString('utf8', 0, Math.min(max, this.headLen));
  }

  private startLineComment(): void {
    this.lex = Lex.LineComment;
    // Only a comment between statements can be mysqldump's "-- Dumping data for table `t`".
    this.comment = this.mode === Mode.Between ? [] : undefined;
  }

  private endLineComment(): void {
    this.lex = Lex.Code;
    if (this.comment) {
      const m = DUMPING_DATA.exec(Buffer.from(this.comment).toString('utf8'));
      if (m) {
        const table = m[1].replace(/``/g, '`');
        if (!this.counts.has(table)) this.counts.set(table, 0);
      }
      this.comment = undefined;
    }
    this.plain(NL);
  }

  private flushRows(): void {
    if (this.table !== undefined) this.counts.set(this.table, (this.counts.get(this.table) ?? 0) + this.rows);
    this.table = undefined;
    this.rows = 0;
  }

  private endStatement(): void {
    this.flushRows();
    this.mode = Mode.Between;
    this.headLen = 0;
    this.delimMatched = 0;
  }
}

const DELIMITER_START = /^delimiter\s/i;

/** Passes the dump through unchanged (the same buffers, no copy) while a MysqlRowCounter reads it. */
export class RowCountTap extends Transform {
  public readonly counter = new MysqlRowCounter();

  constructor(highWaterMark: number) {
    super({ highWaterMark });
  }

  public _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.counter.write(chunk);
    cb(null, chunk);
  }
}
