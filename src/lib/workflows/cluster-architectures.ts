/**
 * The architectures a cluster job can train (lib/workflows/cluster-job.ts): those whose backbones are
 * torchvision's exactly. Apart from the rest so that a page can ask without loading tfjs.
 */
export const CLUSTER_ARCHITECTURES = ['coin-regressor', 'damage-classifier'] as const;
