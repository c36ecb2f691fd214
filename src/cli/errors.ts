/**
 * The CLI's exit codes. CI scripts branch on them, so each failure class has its own code and the
 * numbers never change meaning (docs/cli.md lists them).
 */
export const EXIT = {
  ok: 0,
  /** An unexpected error: a bug, or the machine ran out of memory. */
  internal: 1,
  /** The command line is wrong: unknown command or option, a missing or malformed value. */
  usage: 2,
  /** A file or folder named on the command line does not exist or cannot be read. */
  missingFile: 3,
  /** A file exists but is not in the expected format (dataset, bundle, config, backup, input). */
  badFormat: 4,
  /** The model, the data and the command disagree about the task. */
  wrongTask: 5,
  /** Training or evaluation ran and failed (the message says why). */
  failed: 6,
  /** `loupe gate`: the candidate is not better than production; do not publish it. */
  rejected: 10,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one message and a specific exit code (no stack trace). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export class MissingFileError extends CliError {
  override name = 'MissingFileError';
  constructor(message: string) {
    super(message, EXIT.missingFile);
  }
}

export class BadFormatError extends CliError {
  override name = 'BadFormatError';
  constructor(message: string) {
    super(message, EXIT.badFormat);
  }
}

export class WrongTaskError extends CliError {
  override name = 'WrongTaskError';
  constructor(message: string) {
    super(message, EXIT.wrongTask);
  }
}

/** Names of the studio's errors that mean "this input is malformed" (their messages name the file and field). */
const FORMAT_ERRORS = new Set([
  'DatasetValidationError',
  'InvalidBundleError',
  'InvalidRegistryInput',
  'RequestValidationError',
  'ImageFormatError',
  'ImageDecodeError',
  'LabelError',
  'UnknownModelError',
  'UnsupportedModelError',
]);
const FAILED_ERRORS = new Set(['TrainJobError', 'TrainingCancelledError', 'GateEvaluationError']);

/** The exit code and message for anything a command threw. */
export function classify(error: unknown): { code: ExitCode; message: string } {
  if (error instanceof CliError) return { code: error.exitCode, message: error.message };
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (FORMAT_ERRORS.has(name)) return { code: EXIT.badFormat, message };
  if (FAILED_ERRORS.has(name)) return { code: EXIT.failed, message };
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return { code: EXIT.missingFile, message };
  return { code: EXIT.internal, message: error instanceof Error && error.stack ? error.stack : message };
}
