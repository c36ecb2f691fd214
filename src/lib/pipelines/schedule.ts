import { CronExpressionParser } from 'cron-parser';
import type { Schedule } from './types';

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

const UNIT_MS = { seconds: 1_000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
/** Shorter intervals would retrain faster than any model here trains. */
export const MIN_INTERVAL_MS = 5_000;

/** The local time zone, so "0 3 * * *" means 03:00 where the user is. */
const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * Checks a schedule and returns it, or throws `ScheduleError` naming the field and what is expected.
 * @example validateSchedule({ kind: 'cron', expression: '0 3 * * *' })
 */
export function validateSchedule(schedule: Schedule): Schedule {
  switch (schedule.kind) {
    case 'none':
      return schedule;
    case 'interval': {
      const { every, unit } = schedule;
      if (!(unit in UNIT_MS)) throw new ScheduleError(`schedule.unit must be one of ${Object.keys(UNIT_MS).join(', ')}, got ${JSON.stringify(unit)}`);
      if (!Number.isInteger(every) || every < 1) throw new ScheduleError(`schedule.every must be a whole number ≥ 1, got ${every}`);
      if (every * UNIT_MS[unit] < MIN_INTERVAL_MS) throw new ScheduleError(`schedule: every ${every} ${unit} is shorter than the minimum of ${MIN_INTERVAL_MS / 1000} seconds`);
      return schedule;
    }
    case 'cron': {
      const expression = schedule.expression.trim();
      if (!expression) throw new ScheduleError('schedule.expression is empty; expected a cron expression such as "0 3 * * *" (03:00 every day)');
      const fields = expression.startsWith('@') ? 0 : expression.split(/\s+/).length;
      if (fields !== 0 && fields !== 5 && fields !== 6) {
        throw new ScheduleError(`schedule.expression "${expression}" has ${fields} fields; expected 5 (minute hour day month weekday) or 6 (with seconds first)`);
      }
      try {
        CronExpressionParser.parse(expression, { strict: false });
      } catch (error) {
        throw new ScheduleError(`schedule.expression "${expression}" is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`);
      }
      return { kind: 'cron', expression };
    }
    default:
      throw new ScheduleError(`schedule.kind must be none, interval or cron, got ${JSON.stringify((schedule as { kind: unknown }).kind)}`);
  }
}

/**
 * The first time the schedule fires strictly after `after` (epoch ms), or undefined for no schedule.
 * @example nextFireAfter({ kind: 'interval', every: 2, unit: 'hours' }, t) // t + 7_200_000
 */
export function nextFireAfter(schedule: Schedule, after: number, timeZone = localZone()): number | undefined {
  switch (schedule.kind) {
    case 'none':
      return undefined;
    case 'interval':
      return after + schedule.every * UNIT_MS[schedule.unit];
    case 'cron':
      return CronExpressionParser.parse(schedule.expression, { currentDate: new Date(after), tz: timeZone }).next().getTime();
  }
}

/** "every 5 minutes", "cron 0 3 * * *", "no schedule". */
export function describeSchedule(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'none':
      return 'no schedule';
    case 'interval':
      return `every ${schedule.every === 1 ? '' : `${schedule.every} `}${schedule.every === 1 ? schedule.unit.replace(/s$/, '') : schedule.unit}`;
    case 'cron':
      return `cron ${schedule.expression}`;
  }
}
