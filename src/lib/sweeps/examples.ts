import { stringify } from 'yaml';

export type { SweepExample } from '$lib/tasks/types';

export type DefinitionFormat = 'yaml' | 'json';

/** A definition as editor text. */
export function formatDefinition(definition: unknown, format: DefinitionFormat): string {
  return format === 'json' ? `${JSON.stringify(definition, null, 2)}\n` : stringify(definition, { flowCollectionPadding: false, collectionStyle: 'any' });
}
