import { pushMetrics, pushUrl, PushConfigError, validatePushTarget, type MetricsPushOutcome } from '$lib/monitoring/push';
import { optional, type Values } from './args';
import { UsageError } from './errors';
import type { CliIo } from './progress';

export const PUSH_OPTION_HELP = `      --pushgateway <url>  after the command, push its figures to this Prometheus Pushgateway
                           (group job="loupe-<command>", model="<name>"); a failed push is
                           reported on stderr and in the JSON, and leaves the exit code alone`;

/** The gateway of `--pushgateway`, checked before any work starts. */
export function pushgatewayOption(values: Values, command: 'train' | 'gate'): { url: string; job: string } | undefined {
  const url = optional(values, 'pushgateway');
  if (url === undefined) return undefined;
  try {
    return { url: validatePushTarget({ url, job: `loupe-${command}`, instance: '' }).url, job: `loupe-${command}` };
  } catch (error) {
    if (error instanceof PushConfigError) throw new UsageError(`--pushgateway: ${error.message.replace(/^Pushgateway URL: /, '')}`);
    throw error;
  }
}

/** Pushes a command's figures to its model's group and says how it went on stderr. */
export async function pushFigures(io: CliIo, gateway: { url: string; job: string }, model: string, text: string): Promise<MetricsPushOutcome> {
  const outcome = await pushMetrics(pushUrl({ url: gateway.url, job: gateway.job, instance: '' }, undefined, { model }), text);
  io.err(outcome.ok ? `pushed ${outcome.bytes} bytes of metrics to ${outcome.url}\n` : `warning: could not push metrics to ${outcome.url}: ${outcome.error}\n`);
  return outcome;
}

/** What the JSON summary says about the push. */
export const pushSummary = (outcome: MetricsPushOutcome) => ({ ok: outcome.ok, url: outcome.url, ...(outcome.error ? { error: outcome.error } : {}) });
