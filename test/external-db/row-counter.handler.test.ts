/**
 * The MySQL/MariaDB dump row counter (row-counts.ts): synthetic dumps with nasty data, fed whole and split
 * at every byte; then the real mariadb-dump (the handler's own command line) of a database with nasty data,
 * counted and compared with COUNT(*) on the server.
 */
import { spawn } from 'child_process';
import { mySql, myDropDatabase, myRecreateDatabase } from './support/db';
import { describeWithServices } from './support/services';
import { MysqlRowCounter } from '../../src/external-db/handler/row-counts';
import { dumpCommand } from '../../src/external-db/handler/tools';

jest.setTimeout(120_000);

function count(sql: string | Buffer, chunkSize?: number): { counts: Record<string, number>; problems: string[] } {
  const buf = typeof sql === 'string' ? Buffer.from(sql, 'utf8') : sql;
  const counter = new MysqlRowCounter();
  if (chunkSize === undefined) counter.write(buf);
  else for (let i = 0; i < buf.length; i += chunkSize) counter.write(buf.subarray(i, i + chunkSize));
  return { counts: counter.result(), problems: counter.problems };
}

/** Same result whole, byte by byte, and in odd chunk sizes (every state crosses a chunk boundary). */
function expectCounts(sql: string | Buffer, expected: Record<string, number>): void {
  for (const size of [undefined, 1, 2, 3, 7, 64]) {
    expect({ size, ...count(sql, size) }).toEqual({ size, counts: expected, problems: [] });
  }
}

describe('MysqlRowCounter', () => {
  test('counts the tuples of extended INSERTs, several statements per table', () => {
    expectCounts([
      'INSERT INTO `a` VALUES (1,2),(3,4),(5,6);',
      'INSERT INTO `a` VALUES (7,8);',
      'INSERT INTO `b` VALUES (1);',
      '',
    ].join('\n'), { a: 4, b: 1 });
  });

  test('strings with ),( quotes, backslashes, semicolons, newlines, parentheses, unicode; NULLs; hex literals', () => {
    const sql = String.raw`INSERT INTO ` + '`t`' + String.raw` VALUES (1,'),(',NULL),(2,'it\'s; (x)','a\\'),(3,'O''Brien),(''',0x00FF29283B27),` +
      String.raw`(4,'multi
line ); (
',X'29'),(5,'\\\\\'),(\\',b'101'),(6,'🎉 漢字 \"quoted\" ); DROP',-1.5e3),(7,'',_binary 'x)('),(8,"dq ),( \" '",NULL);` + '\n';
    expectCounts(sql, { t: 8 });
  });

  test('INSERT text inside strings, comments, routine and trigger bodies is not data', () => {
    const sql = [
      '/*M!999999\\- enable the sandbox mode */ ',
      '-- MariaDB dump 10.19',
      '/*!40101 SET NAMES utf8mb4 */;',
      'CREATE TABLE `log` (`id` int, `note` varchar(50) DEFAULT \'x;\nINSERT INTO `log` VALUES (9);\') COMMENT \'it\'\'s (a) table\';',
      '/* INSERT INTO `log` VALUES (1),(2); it\'s a comment */',
      '# INSERT INTO `log` VALUES (1);',
      '-- INSERT INTO `log` VALUES (1);',
      'INSERT INTO `log` VALUES (1,\'a\'),(2,\'b\');',
      'DELIMITER ;;',
      '/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `trg` BEFORE INSERT ON `log` FOR EACH ROW BEGIN',
      'INSERT INTO `log` VALUES (100,\';;\'),(101,\'x\');',
      'SET @x = \'*/ ;; \';',
      'END */;;',
      'DELIMITER ;',
      'DELIMITER ;;',
      'CREATE PROCEDURE `p`()',
      'BEGIN',
      '  INSERT INTO `log` VALUES (5),(6);',
      '  -- don\'t count',
      'END ;;',
      'DELIMITER ;',
      'INSERT INTO `log` VALUES (3,NULL);',
      '',
    ].join('\n');
    expectCounts(sql, { log: 3 });
  });

  test('empty tables from "Dumping data" comments; odd table names; column lists; unknown INSERT forms are reported', () => {
    const sql = [
      '--',
      '-- Dumping data for table `empty`',
      '--',
      '',
      'LOCK TABLES `empty` WRITE;',
      'UNLOCK TABLES;',
      '--',
      '-- Dumping data for table `we``ird (name), ü`',
      '--',
      'INSERT INTO `we``ird (name), ü` VALUES (1),(2);',
      'INSERT INTO `cols` (`a`, `b)`, `c``d`) VALUES (1,2,3),(4,5,6);',
      'INSERT   INTO `spaced`\tVALUES\n(1);',
      '',
    ].join('\n');
    expectCounts(sql, { 'cols': 2, 'empty': 0, 'spaced': 1, 'we`ird (name), ü': 2 });
    expect(count('INSERT INTO `x` SELECT 1;\n').problems).toEqual([expect.stringMatching(/unreadable INSERT statement .*INSERT INTO `x` SELECT 1/)]);
  });

  test('binary bytes (every value) inside strings', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 0x27 && b !== 0x5c));
    const sql = Buffer.concat([Buffer.from("INSERT INTO `bin` VALUES (1,'"), bytes, Buffer.from("'),(2,'\\''),(3,'\\\\');\n")]);
    expectCounts(sql, { bin: 3 });
  });
});

describeWithServices('MysqlRowCounter against the real mariadb-dump', (svc) => {
  const my = svc.mysql;
  const database = `bdr_rowcount_${process.pid}`;

  beforeAll(async () => {
    await myRecreateDatabase(my, database);
    await mySql(my, database, String.raw`
CREATE TABLE nasty (id INT PRIMARY KEY, s TEXT NULL, b BLOB NULL, j JSON NULL) CHARACTER SET utf8mb4;
INSERT INTO nasty VALUES
  (1, '),(', NULL, NULL),
  (2, 'it''s; (x) "dq" \\ back\\slash', X'00FF2729283B5C0A', '{"a": "),("}'),
  (3, 'multi\nline\r\n); INSERT INTO nasty VALUES (99);', '', NULL),
  (4, '🎉 漢字 Ελληνικά', X'27', '[1, null, "x\\"y"]'),
  (5, NULL, NULL, NULL),
  (6, '', X'', 'null'),
  (7, REPEAT('),(\';', 5000), REPEAT(X'2829', 5000), NULL);
INSERT INTO nasty SELECT 100 + seq, CONCAT('row ', seq, ' ),( '';'), UNHEX(MD5(seq)), NULL FROM seq_1_to_30000;
CREATE TABLE ` + '`we``ird (name)`' + String.raw` (id INT) ;
INSERT INTO ` + '`we``ird (name)`' + String.raw` VALUES (1), (2), (3);
CREATE TABLE empty_table (id INT);
CREATE TABLE with_invisible (id INT, hidden INT INVISIBLE DEFAULT 7);
INSERT INTO with_invisible (id) VALUES (1), (2);
CREATE TABLE log (id INT, note VARCHAR(100));
CREATE TRIGGER nasty_log AFTER INSERT ON nasty FOR EACH ROW INSERT INTO log VALUES (NEW.id, 'x'), (NEW.id, ');(');
CREATE PROCEDURE fill() INSERT INTO log VALUES (1, 'a'), (2, 'b');
CREATE VIEW v AS SELECT id FROM nasty;
CALL fill();
`);
  });

  afterAll(async () => {
    await myDropDatabase(my, database);
  });

  test('the counts of the dump equal COUNT(*) of every table', async () => {
    const spec = dumpCommand('mariadb', { host: my.host, port: my.port, username: my.user, password: my.password, tlsMode: 'disable' },
      database, 'none');
    const counter = new MysqlRowCounter();
    const child = spawn(spec.command, spec.args, { env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.on('data', (d: Buffer) => counter.write(d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });

    const tables = (await mySql(my, database,
      `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}' AND TABLE_TYPE = 'BASE TABLE';`)).trim().split('\n');
    const expected: Record<string, number> = {};
    for (const t of tables) expected[t] = Number((await mySql(my, database, `SELECT COUNT(*) FROM \`${t.replace(/`/g, '``')}\`;`)).trim());
    expect(expected).toMatchObject({ 'nasty': 30007, 'we`ird (name)': 3, 'empty_table': 0, 'with_invisible': 2, 'log': 2 });
    expect(counter.problems).toEqual([]);
    expect(counter.result()).toEqual(expected);
  });
});
