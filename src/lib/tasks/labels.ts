/**
 * The class names a saved classifier carries in its metadata (model.json `userDefinedMetadata.loupe.labels`),
 * without loading its weights; undefined for regressors and models without Loupe metadata.
 */
export function savedModelLabels(modelJson: string): string[] | undefined {
  try {
    const labels = (JSON.parse(modelJson) as { userDefinedMetadata?: { loupe?: { labels?: unknown } } }).userDefinedMetadata?.loupe?.labels;
    return Array.isArray(labels) && labels.every((l) => typeof l === 'string') ? labels : undefined;
  } catch {
    return undefined;
  }
}
