import type { BackendName } from '$lib/db/types';

export type FailureKind = 'out-of-memory' | 'device-lost' | 'other';

/** Training stopped because the GPU device went away; the run can continue on another backend. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(
    readonly backend: BackendName,
    cause: string,
  ) {
    super(`The ${backend} device was lost (${cause}).`);
  }
}

const OUT_OF_MEMORY = /out of memory|\boom\b|failed to allocate|allocation failed|array buffer allocation|Cannot allocate|exceeds the max|too large to be allocated/i;
const DEVICE_LOST = /device (was )?lost|context lost|CONTEXT_LOST|GPUDevice.*destroyed|device is lost/i;

/** What went wrong, in terms of what the user can do about it. */
export function classifyFailure(error: unknown): FailureKind {
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  if (DEVICE_LOST.test(message)) return 'device-lost';
  if (OUT_OF_MEMORY.test(message)) return 'out-of-memory';
  return 'other';
}

/** The reason recorded on a failed run: the error, plus how to avoid it where Loupe knows. */
export function failureReason(error: unknown, settings: { batchSize: number; inputSize?: number; backend: BackendName }): string {
  const message = error instanceof Error ? error.message : String(error);
  switch (classifyFailure(error)) {
    case 'out-of-memory':
      return (
        `The ${settings.backend} device ran out of memory (${message}). Try a smaller batch size than ${settings.batchSize}` +
        (settings.inputSize ? `, a smaller input size than ${settings.inputSize} px` : '') +
        ', or the MobileNetV3-Small backbone.'
      );
    case 'device-lost':
      return `The ${settings.backend} device was lost (${message}). Resume continues from the last checkpoint on another backend.`;
    case 'other':
      return message;
  }
}
