import { APP_VERSION, GIT_COMMIT } from '$lib/version';
import { parseCommandArgs, type Command } from './args';
import { classify, EXIT } from './errors';
import type { CliIo } from './progress';
import { predictCommand } from './predict';
import { trainCommand } from './train';
import { gateCommand } from './gate';
import { exportCommand, importBundleCommand } from './transfer';
import { exportJobCommand, importWeightsCommand } from './cluster';

/** Every command, in the order `loupe --help` lists them. */
export const COMMANDS: Command[] = [trainCommand, predictCommand, gateCommand, exportCommand, importBundleCommand, exportJobCommand, importWeightsCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: loupe <command> [options]

Loupe's pipeline from a terminal or CI: the studio's own import, training, registry bundles and
promotion gate, run in Node (tfjs wasm or cpu).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "loupe <command> --help" for a command's options, "loupe --version" for the version. Exit codes: 0 ok, 1 internal error, 2 usage,
3 missing file, 4 bad format, 5 wrong task, 6 training or evaluation failed, 10 gate rejected the candidate.`;
}

/**
 * Runs one CLI invocation and returns its exit code; never throws. Results go to `io.out`, progress and
 * errors to `io.err`.
 * @example process.exitCode = await main(process.argv.slice(2), nodeIo());
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.out(`${topic ? topic.help : overview()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.out(`loupe ${APP_VERSION}${GIT_COMMIT ? ` (${GIT_COMMIT})` : ''}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`loupe: unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(', ')}. Run "loupe --help".\n`);
    return EXIT.usage;
  }
  try {
    const values = parseCommandArgs(command, rest);
    if (values.help) {
      io.out(`${command.help}\n`);
      return EXIT.ok;
    }
    return await command.run(values, io);
  } catch (error) {
    const { code, message } = classify(error);
    io.err(`loupe ${command.name}: error: ${message.replace(new RegExp(`^loupe ${command.name}: `), '')}\n`);
    return code;
  }
}

/** The process's own streams. */
export function nodeIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    tty: Boolean(process.stderr.isTTY),
  };
}
