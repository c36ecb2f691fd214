import type { DatasetRow, TaskName } from '$lib/db/types';
import { formatNumber } from '$lib/format';
import { presetOf, TASKS } from '$lib/tasks/registry';
import { heldOutMetrics } from './gate';
import type { InitialWeights, Lineage } from './types';

export interface CardContext {
  name: string;
  version: number;
  task?: TaskName;
  lineage: Lineage;
  metrics: Record<string, number>;
  dataset?: Pick<DatasetRow, 'id' | 'name' | 'sampleCount' | 'splits' | 'labels' | 'preset'>;
}

/**
 * The auto-filled model card (Markdown): intended use, data, metrics, limits and lineage. Users
 * edit it afterwards; Loupe renders it as text, never as HTML.
 * @example const card = defaultModelCard({ name: 'coin-year', version: 3, task: 'coin-year', lineage, metrics });
 */
export function defaultModelCard(ctx: CardContext): string {
  const { lineage, dataset } = ctx;
  const task = ctx.task ?? lineage.task;
  // The dataset's preset speaks for its models (sentiment); otherwise the task's generic text.
  const card = task ? (presetOf(task, dataset?.preset)?.card ?? TASKS[task].card) : undefined;
  const lines: string[] = [`# ${ctx.name} — version ${ctx.version}`, ''];
  lines.push('## Intended use', '', card ? card.intendedUse : 'Describe what this model is for, and for whom.', '');
  lines.push('## Data', '');
  if (dataset) {
    const splits = Object.entries(dataset.splits ?? {})
      .map(([split, count]) => `${split} ${count}`)
      .join(', ');
    lines.push(`- Dataset: **${dataset.name}**, ${dataset.sampleCount} samples${splits ? ` (${splits})` : ''}`);
    if (dataset.labels?.length) lines.push(`- Classes: ${dataset.labels.join(', ')}`);
  }
  lines.push(`- Dataset version: \`${lineage.datasetVersion ?? 'unknown'}\``);
  if (lineage.seed !== undefined) lines.push(`- Split and training seed: ${lineage.seed}`);
  lines.push('');
  lines.push('## Metrics', '');
  const held = heldOutMetrics(ctx.metrics);
  const names = Object.keys(held);
  if (names.length === 0) lines.push('No metrics were recorded.');
  else {
    lines.push('Measured on the held-out (validation) split of the dataset version above.', '');
    for (const name of names) lines.push(`- ${name}: ${formatNumber(held[name]!)}`);
  }
  lines.push('');
  lines.push('## Limits', '');
  for (const limit of card ? card.limits : ['Describe where the model is known to fail.']) lines.push(`- ${limit}`);
  lines.push('- Promotion compares versions on one evaluation set; a model can still degrade on live data (see Monitor).');
  lines.push('');
  lines.push('## Lineage', '');
  if (lineage.runId) lines.push(`- Run: \`${lineage.runId}\``);
  if (lineage.trainedBy) lines.push(`- Trained outside Loupe: ${lineage.trainedBy.summary} (job \`${lineage.trainedBy.jobHash.slice(0, 12)}\`)`);
  if (lineage.initialWeights) lines.push(`- First weights: ${describeInitialWeights(lineage.initialWeights)}`);
  if (lineage.backend) lines.push(`- Backend: ${lineage.backend}${lineage.adapter ? ` (${lineage.adapter})` : ''}`);
  if (lineage.appVersion) lines.push(`- Trained with Loupe ${lineage.appVersion}${lineage.gitCommit ? ` (commit ${lineage.gitCommit})` : ''}`);
  const params = Object.entries(lineage.params ?? {}).filter(([, value]) => value !== undefined);
  if (params.length) lines.push(`- Parameters: ${params.map(([k, value]) => `${k}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`).join(', ')}`);
  lines.push('');
  return lines.join('\n');
}

/**
 * Where a version's first weights came from, in one line (model card, version page).
 * @example describeInitialWeights({ kind: 'version', name: 'cars', version: 1, id: 'v', head: true }) // 'cars v1 (backbone and head)'
 */
export function describeInitialWeights(weights: InitialWeights): string {
  switch (weights.kind) {
    case 'hub':
      return `hub ${weights.id} (${weights.file} from ${weights.host}, ${weights.naming} naming, sha256 ${weights.sha256})`;
    case 'file':
      return `file ${weights.name} (${weights.naming} naming, sha256 ${weights.sha256})`;
    case 'version':
      return `${weights.name} v${weights.version} (${weights.head ? 'backbone and head' : 'backbone'})`;
  }
}
