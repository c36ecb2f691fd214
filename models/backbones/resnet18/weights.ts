import { layerName } from '../blocks';
import type { TorchModule, TorchModuleKind, TorchWeightMap, WeightNaming } from '../types';
import { hasDownsample, RESNET18_BLOCKS_PER_STAGE, RESNET18_STAGES } from './constants';

/**
 * Where each tensor of a torchvision (or timm: same names) `resnet18` state dict goes in our backbone.
 * @example resnet18WeightMap('', 'torchvision').modules[0] // { source: 'conv1', layer: 'conv1', kind: 'conv' }
 */
export function resnet18WeightMap(prefix: string, _naming: WeightNaming): TorchWeightMap {
  const modules: TorchModule[] = [];
  const add = (source: string, kind: TorchModuleKind) => modules.push({ source, layer: layerName(prefix, source), kind });

  add('conv1', 'conv');
  add('bn1', 'batchnorm');
  RESNET18_STAGES.forEach((stage, stageIndex) => {
    for (let block = 0; block < RESNET18_BLOCKS_PER_STAGE; block++) {
      const path = `${stage.name}.${block}`;
      add(`${path}.conv1`, 'conv');
      add(`${path}.bn1`, 'batchnorm');
      add(`${path}.conv2`, 'conv');
      add(`${path}.bn2`, 'batchnorm');
      if (hasDownsample(stageIndex, block)) {
        add(`${path}.downsample.0`, 'conv');
        add(`${path}.downsample.1`, 'batchnorm');
      }
    }
  });
  return { modules, ignore: [/^fc\./, /\.num_batches_tracked$/] };
}
