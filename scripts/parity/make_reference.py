#!/usr/bin/python3
"""Reference outputs of torchvision's resnet18 and mobilenet_v3_small feature extractors, for parity.

Writes into models/fixtures/generated/ (git-ignored):
  resnet18.safetensors, mobilenetv3-small.safetensors  full state dicts (classifier and BN counters included,
                                                        so the importer's skip rules are exercised too)
  parity.safetensors                                    `input` (NCHW, ImageNet-normalized scale) and the
                                                        pooled features of each backbone in eval mode;
                                                        metadata: parameter counts, sizes, versions

Weights are random but seeded; BatchNorm running statistics are measured on a random batch and then
perturbed, and affine BN parameters and biases are randomized, so every tensor the importer moves matters.

Usage: /usr/bin/python3 scripts/parity/make_reference.py [out_dir] [--size 96] [--batch 2] [--seed 0]
"""

import argparse
import json
import os
import struct
import sys

import torch
import torchvision
from torch import nn

BACKBONES = {
    # our kind: (torchvision constructor, classifier attribute)
    "resnet18": (torchvision.models.resnet18, "fc"),
    "mobilenetv3-small": (torchvision.models.mobilenet_v3_small, "classifier"),
}

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64", torch.int32: "I32"}


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout, written by hand so the `safetensors` package is not needed:
    u64 little-endian header length, JSON header (space-padded to 8 bytes), raw little-endian data."""
    header = {}
    chunks = []
    offset = 0
    for name, tensor in tensors.items():
        array = tensor.detach().contiguous().cpu().numpy()
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)


def randomize(model, size, generator):
    """Give every BatchNorm plausible, non-trivial statistics and randomize what a fresh model leaves at 0 or 1.

    Statistics are measured in eval mode, one BN at a time in execution order (a pre-hook sees the input
    produced by the already-calibrated layers before it), then perturbed; measuring them in train mode
    instead lets eval-mode activations grow ~1000× through MobileNetV3's 11 blocks, which would hide
    small relative errors behind large absolute ones."""

    def calibrate(bn, inputs):
        x = inputs[0]
        shape = bn.running_mean.shape
        bn.running_mean.copy_(x.mean(dim=(0, 2, 3)) + torch.randn(shape, generator=generator) * 0.1)
        bn.running_var.copy_(x.var(dim=(0, 2, 3)) * torch.empty(shape).uniform_(0.7, 1.3, generator=generator))
        bn.weight.copy_(torch.empty(shape).uniform_(0.5, 1.5, generator=generator))
        bn.bias.copy_(torch.randn(shape, generator=generator) * 0.2)
        handles.pop(bn).remove()  # once per BN

    model.eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d) and m.bias is not None:  # the squeeze-excite fc layers
                m.bias.copy_(torch.randn(m.bias.shape, generator=generator) * 0.2)
        handles = {m: m.register_forward_pre_hook(calibrate) for m in model.modules() if isinstance(m, nn.BatchNorm2d)}
        model(torch.randn(8, 3, size, size, generator=generator))
        assert not handles, "some BatchNorm layers never ran"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("out_dir", nargs="?", default=os.path.join(root, "models", "fixtures", "generated"))
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    generator = torch.Generator().manual_seed(args.seed)
    image = torch.randn(args.batch, 3, args.size, args.size, generator=generator)
    reference = {"input": image}
    metadata = {"size": args.size, "batch": args.batch, "seed": args.seed, "torch": torch.__version__, "torchvision": torchvision.__version__}

    for kind, (constructor, head) in BACKBONES.items():
        model = constructor()  # no pretrained weights: nothing is downloaded
        randomize(model, args.size, generator)
        write_safetensors(os.path.join(args.out_dir, f"{kind}.safetensors"), model.state_dict(), {"format": "pt", "model": kind})
        metadata[f"{kind}.params"] = sum(p.numel() for name, p in model.named_parameters() if not name.startswith(head + "."))
        setattr(model, head, nn.Identity())  # what remains ends with avgpool + flatten
        with torch.no_grad():
            reference[kind] = model(image)

    write_safetensors(os.path.join(args.out_dir, "parity.safetensors"), reference, metadata)
    print(f"wrote reference for {', '.join(BACKBONES)} ({args.batch}×3×{args.size}×{args.size}) to {args.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
