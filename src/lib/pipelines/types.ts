/** The shapes pipelines store (config, state, triggers, steps, artifacts) live in `$lib/db/pipeline-shapes`. */
export { STEP_NAMES } from '$lib/db/pipeline-shapes';
export type {
  PipelineConfig,
  PipelineState,
  RunArtifacts,
  RunTrigger,
  Schedule,
  StepKind,
  StepName,
  StepRecord,
  StepStatus,
  TrainRecipe,
  TrainStepConfig,
  TriggerConfig,
  TriggerKind,
} from '$lib/db/pipeline-shapes';
