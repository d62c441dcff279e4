import { Duration } from 'aws-cdk-lib';
import { BackupDrConfigError } from './validation';

/**
 * What a schedule expression means for recovery: how long the longest gap between two runs can be.
 */
export interface ParsedSchedule {
  /** The expression as given. */
  readonly expression: string;
  /** Longest gap between two consecutive runs (UTC; four years are simulated, leap year included). */
  readonly maxInterval: Duration;
  /** Shortest gap between two consecutive runs. */
  readonly minInterval: Duration;
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
// A four-year span (one leap year): every gap of a cron expression occurs inside it (a yearly run has
// three gaps in it; a run only on 29 February has none and is read as a one-off every four years).
const SIMULATION_START = Date.UTC(2027, 0, 1);
const SIMULATION_DAYS = 4 * 365 + 1;

/**
 * Reads AWS schedule expressions (`cron(...)` with six fields, as AWS Backup and EventBridge use them,
 * and `rate(n unit)`) and tells the longest interval between two runs, the number a worst-case RPO
 * is built from. One parser for the library: the cdk-nag pack checks plan rules with it, and
 * constructs can validate user-given schedules with it.
 *
 * Supported cron syntax: `*`, `?`, numbers, names (`JAN`–`DEC`, `SUN`–`SAT`), lists, ranges, steps
 * (`0/15`, `*\/6`, `1-5/2`), `L` (last day of the month; `nL` last weekday n of the month), `n#k`
 * (k-th weekday n of the month) and `nW` (read as day n: the nearest weekday is at most two days away).
 */
export class ScheduleExpression {
  /**
   * Parse an expression. Throws a `BackupDrConfigError` naming the field and the fix when it cannot be read
   * (tokens included: a schedule must be concrete at synth time).
   */
  public static parse(expression: string): ParsedSchedule {
    let parsed = CACHE.get(expression);
    if (!parsed) {
      parsed = parseExpression(expression);
      CACHE.set(expression, parsed);
    }
    return parsed;
  }

  /** Longest interval between two runs of `expression`, in minutes. */
  public static maxIntervalMinutes(expression: string): number {
    return ScheduleExpression.parse(expression).maxInterval.toMinutes();
  }

  private constructor() {}
}

const CACHE = new Map<string, ParsedSchedule>();

function parseExpression(expression: string): ParsedSchedule {
  {
    const expr = expression.trim();
    const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/i.exec(expr);
    if (rate) {
      const n = Number(rate[1]);
      if (n < 1) throw invalid(expression, 'a rate must be at least 1');
      const unit = rate[2].toLowerCase().replace(/s$/, '');
      const minutes = n * (unit === 'minute' ? 1 : unit === 'hour' ? 60 : DAY_MINUTES);
      return { expression, maxInterval: Duration.minutes(minutes), minInterval: Duration.minutes(minutes) };
    }
    const cron = /^cron\((.*)\)$/i.exec(expr);
    if (!cron) throw invalid(expression, 'use cron(minutes hours day-of-month month day-of-week year) or rate(n unit)');
    const fields = cron[1].trim().split(/\s+/);
    if (fields.length !== 6) throw invalid(expression, `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
    const [min, hour, dom, month, dow, year] = fields;
    if (dom !== '?' && dow !== '?') throw invalid(expression, 'one of day-of-month and day-of-week must be ?');
    const minutes = parseField(expression, 'minutes', min, 0, 59);
    const hours = parseField(expression, 'hours', hour, 0, 23);
    const months = parseField(expression, 'month', month, 1, 12, MONTHS, 1);
    const years = year === '*' ? undefined : parseField(expression, 'year', year, 1970, 2199);
    const dayMatches = dom === '?' ? dayOfWeekMatcher(expression, dow) : dayOfMonthMatcher(expression, dom);

    const times: number[] = [];
    for (const h of hours) for (const m of minutes) times.push(h * 60 + m);
    times.sort((a, b) => a - b);

    let previous: number | undefined;
    let maxGap = 0;
    let minGap = Number.POSITIVE_INFINITY;
    let restricted = false;
    for (let d = 0; d < SIMULATION_DAYS; d++) {
      const date = new Date(SIMULATION_START + d * DAY_MINUTES * MINUTE_MS);
      if (years && !years.includes(date.getUTCFullYear())) { restricted = true; continue; }
      if (!months.includes(date.getUTCMonth() + 1) || !dayMatches(date)) continue;
      for (const t of times) {
        const at = d * DAY_MINUTES + t;
        if (previous !== undefined) {
          maxGap = Math.max(maxGap, at - previous);
          minGap = Math.min(minGap, at - previous);
        }
        previous = at;
      }
    }
    if (previous === undefined) {
      throw invalid(expression, restricted ? 'its year field leaves no run in 2027–2030' : 'it never runs');
    }
    if (maxGap === 0) {
      // A single run in the simulated span (29 February, or a specific year): one run every four years at best.
      maxGap = SIMULATION_DAYS * DAY_MINUTES;
      minGap = maxGap;
    }
    return { expression, maxInterval: Duration.minutes(maxGap), minInterval: Duration.minutes(minGap) };
  }
}

function invalid(expression: string, why: string): BackupDrConfigError {
  return new BackupDrConfigError(`schedule expression "${expression}" cannot be read: ${why}`);
}

function parseField(expression: string, name: string, field: string, lo: number, hi: number, names?: string[], nameBase = 0): number[] {
  const values = new Set<number>();
  const value = (s: string): number => {
    const idx = names?.indexOf(s.toUpperCase()) ?? -1;
    if (idx >= 0) return idx + nameBase;
    if (!/^\d+$/.test(s)) throw invalid(expression, `the ${name} field has "${s}"`);
    const n = Number(s);
    if (n < lo || n > hi) throw invalid(expression, `the ${name} field has ${n}, outside ${lo}–${hi}`);
    return n;
  };
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw invalid(expression, `the ${name} field has step "${stepText}"`);
    let from: number; let to: number;
    if (range === '*' || range === '?') { from = lo; to = hi; } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      from = value(a); to = value(b);
    } else {
      from = value(range);
      to = stepText === undefined ? from : hi;
    }
    if (from > to) throw invalid(expression, `the ${name} field has the range ${range} backwards`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

function daysInMonth(d: Date): number {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

function dayOfMonthMatcher(expression: string, field: string): (d: Date) => boolean {
  if (field === 'L') return (d) => d.getUTCDate() === daysInMonth(d);
  const w = /^(\d+)W$/.exec(field);
  const days = parseField(expression, 'day-of-month', w ? w[1] : field, 1, 31);
  return (d) => days.includes(d.getUTCDate());
}

function dayOfWeekMatcher(expression: string, field: string): (d: Date) => boolean {
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth) {
    const [day] = parseField(expression, 'day-of-week', nth[1], 1, 7, DAYS, 1);
    const k = Number(nth[2]);
    return (d) => d.getUTCDay() + 1 === day && Math.ceil(d.getUTCDate() / 7) === k;
  }
  const last = /^(\w+)L$/.exec(field);
  if (last) {
    const [day] = parseField(expression, 'day-of-week', last[1], 1, 7, DAYS, 1);
    return (d) => d.getUTCDay() + 1 === day && d.getUTCDate() + 7 > daysInMonth(d);
  }
  const days = parseField(expression, 'day-of-week', field, 1, 7, DAYS, 1);
  return (d) => days.includes(d.getUTCDay() + 1);
}
