import { BackupDrConfigError } from '../core/validation';

/** @internal Series of Oracle's MySQL client tools the dump image installs for MySQL sources (Dockerfile MYSQL_SERIES). */
export const MYSQL_CLIENT_SERIES = '8.4';

/** Database engine families the dump job supports. */
export enum ExternalDbEngineFamily {
  /** PostgreSQL: `pg_dump -Fc`. */
  POSTGRES = 'postgres',
  /** MySQL: `mysqldump --single-transaction --routines --triggers --events`. */
  MYSQL = 'mysql',
  /** MariaDB: `mariadb-dump --single-transaction --routines --triggers --events`. */
  MARIADB = 'mariadb',
}

const SUPPORTED: Record<ExternalDbEngineFamily, { min: number; max: number; port: number }> = {
  [ExternalDbEngineFamily.POSTGRES]: { min: 10, max: 18, port: 5432 },
  // MySQL 8.0 / 8.4 (and Aurora MySQL 3): dumped with Oracle's 8.4 client; 5.7 is end of life and not supported.
  [ExternalDbEngineFamily.MYSQL]: { min: 8, max: 8, port: 3306 },
  [ExternalDbEngineFamily.MARIADB]: { min: 10, max: 12, port: 3306 },
};

/**
 * Engine and major version of an external database. The dump image installs client tools of this
 * major version or newer (pg_dump refuses servers newer than itself).
 */
export class ExternalDbEngine {
  /** PostgreSQL of the given major version (10–18). */
  public static postgres(majorVersion: number): ExternalDbEngine {
    return new ExternalDbEngine(ExternalDbEngineFamily.POSTGRES, majorVersion);
  }

  /** MySQL of the given major version (8: MySQL 8.0, 8.4 and Aurora MySQL 3). */
  public static mysql(majorVersion: number): ExternalDbEngine {
    return new ExternalDbEngine(ExternalDbEngineFamily.MYSQL, majorVersion);
  }

  /** MariaDB of the given major version (10–12). */
  public static mariadb(majorVersion: number): ExternalDbEngine {
    return new ExternalDbEngine(ExternalDbEngineFamily.MARIADB, majorVersion);
  }

  /** Default port of the engine. */
  public readonly defaultPort: number;

  private constructor(
    /** Engine family. */
    public readonly family: ExternalDbEngineFamily,
    /** Major version of the server. */
    public readonly majorVersion: number,
  ) {
    const s = SUPPORTED[family];
    if (!Number.isInteger(majorVersion) || majorVersion < s.min || majorVersion > s.max) {
      throw new BackupDrConfigError(
        `engine: ${family} major version ${majorVersion} is not supported; use a whole major version between ${s.min} and ${s.max}`,
      );
    }
    this.defaultPort = s.port;
  }
}
