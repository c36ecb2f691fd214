import { parseArgs } from 'node:util';
import type { TaskName } from '$lib/db/types';
import { taskChoice, taskChoices } from '$lib/tasks/registry';
import { UsageError } from './errors';
import type { CliIo } from './progress';

/** A command's option; `multiple` ones may repeat (`--text a --text b`), every other may be given once. */
export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
export type Values = Record<string, string | boolean | string[] | undefined>;

/** One `loupe <name>` command: its options (for `util.parseArgs`), its `--help` text, and what it does. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  options: Record<string, OptionSpec>;
  /** Returns the exit code; throws a `CliError` (or a studio error) on failure. */
  run(values: Values, io: CliIo): Promise<number>;
}

/** Parses a command's arguments strictly: unknown options, missing values and stray words are usage errors. */
export function parseCommandArgs(command: Command, argv: string[]): Values {
  try {
    const { values, positionals, tokens } = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
    if (positionals.length > 0 && !values.help) {
      throw new UsageError(`unexpected argument "${positionals[0]}"; every value follows its option (e.g. --text "…")`);
    }
    // parseArgs keeps the last of a repeated option: say so rather than drop the others silently.
    const counts = new Map<string, number>();
    for (const token of tokens) if (token.kind === 'option') counts.set(token.name, (counts.get(token.name) ?? 0) + 1);
    const repeated = [...counts].find(([name, n]) => n > 1 && name !== 'help' && !command.options[name]?.multiple);
    if (repeated) throw new UsageError(`--${repeated[0]} is given ${repeated[1]} times; it takes one value`);
    return values as Values;
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`loupe ${command.name}: ${error.message}\nRun "loupe ${command.name} --help" for its options.`);
    // parseArgs's messages name the option ("Unknown option '--foo'", "Option '--model <value>' argument missing").
    throw new UsageError(`loupe ${command.name}: ${(error as Error).message.split('. ')[0]}\nRun "loupe ${command.name} --help" for its options.`);
  }
}

/** A string option's value, or a usage error naming it when it is required and missing. */
export function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function optional(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Every value of a repeatable option, in the order given (none: `[]`). */
export function repeated(values: Values, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

/** A numeric option (`integer` ⇒ whole numbers only), or undefined when absent. */
export function numberOption(values: Values, name: string, { integer = false, min = -Infinity } = {}): number | undefined {
  const raw = optional(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min) {
    throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}, got "${raw}"`);
  }
  return value;
}

/** The `--task` option of commands that import data: a task, or a preset of one (`car-damage`). */
export function taskChoiceOption(values: Values, name = 'task'): { task: TaskName; preset?: string } {
  const value = required(values, name);
  const choice = taskChoice(value);
  if (!choice) throw new UsageError(`--${name} "${value}" is not a task; choose ${taskChoices().map((c) => c.id).join(', ')}`);
  return choice.preset ? { task: choice.task, preset: choice.preset } : { task: choice.task };
}

