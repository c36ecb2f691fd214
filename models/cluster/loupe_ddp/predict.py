"""Predictions of a trained job's model.safetensors, in eval mode, as JSON on stdout or --out:
  --inputs tensors.safetensors   `input_0`, `input_1`, … NHWC ImageNet-normalised batches (what the studio feeds tfjs)
  --images a.png [b.png]         one sample, decoded and resized as training does
Coin years come back as `normalized` (the head's output) and `years` (× std + mean, in float64);
classifiers as `probabilities` (softmax) with the job's `labels`."""

import argparse
import json
import sys

import torch

from .data import decode, normalise
from .model import LoupeModel
from .safetensors_io import read_safetensors


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--job", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--inputs")
    p.add_argument("--images", nargs="+")
    p.add_argument("--out")
    args = p.parse_args(argv)
    with open(args.job, encoding="utf-8") as f:
        job = json.load(f)
    cfg = job["model"]
    model = LoupeModel(cfg)
    state, _ = read_safetensors(args.weights)
    model.load_state_dict(state, strict=False)
    model.eval()
    if args.inputs:
        tensors, _ = read_safetensors(args.inputs)
        images = [tensors[f"input_{k}"].permute(0, 3, 1, 2).contiguous() for k in range(len(cfg["inputs"]))]
    else:
        images = [normalise(decode(path, cfg["inputSize"])).unsqueeze(0) for path in args.images]
    with torch.no_grad():
        output = model(*images).double()
    if cfg["architecture"] == "coin-regressor":
        scale = cfg["yearScale"]
        normalized = output[:, 0].tolist()
        result = {"normalized": normalized, "years": [v * scale["std"] + scale["mean"] for v in normalized]}
    else:
        result = {"labels": cfg["labels"], "probabilities": torch.softmax(output, dim=1).tolist()}
    text = json.dumps(result)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
