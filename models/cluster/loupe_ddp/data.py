"""The dataset version as the studio exported it (loupe-dataset.json + images/), decoded, resized and
augmented the studio's way: ImageNet normalisation, and augmentation drawn from the studio's seeded
generators (src/lib/random.ts, src/lib/images/augment.ts)."""

import json
import math
import os

import numpy as np
import torch
from PIL import Image

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
MASK = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & MASK


def mulberry32(seed):
    """The studio's seeded generator: same seed, same sequence of floats in [0, 1)."""
    state = seed & MASK

    def random():
        nonlocal state
        state = (state + 0x6D2B79F5) & MASK
        t = state
        t = _imul(t ^ (t >> 15), t | 1)
        t = (t ^ ((t + _imul(t ^ (t >> 7), t | 61)) & MASK)) & MASK
        return ((t ^ (t >> 14)) & MASK) / 4294967296

    return random


def derive_seed(seed, *parts):
    """`deriveSeed(seed, ...parts)` of src/lib/random.ts."""
    h = ((seed & MASK) ^ 0x9E3779B9) & MASK
    for part in parts:
        for unit in (ord(c) for c in str(part)):
            h = _imul(h ^ unit, 0x01000193)
        h = _imul(h ^ (h >> 16), 0x85EBCA6B)
    return h


def crop_window(size, scale, random):
    """`cropWindow`: a random resized crop's box as torchvision draws it (up to ten tries of an area in
    `scale` × the image and a log-uniform aspect ratio in [3/4, 4/3]; the whole image when none fits)."""
    for _ in range(10):
        area = size * size * (scale[0] + random() * (scale[1] - scale[0]))
        ratio = math.exp(math.log(3 / 4) + random() * (math.log(4 / 3) - math.log(3 / 4)))
        w, h = math.sqrt(area * ratio), math.sqrt(area / ratio)
        if w <= size and h <= size:
            return {"x": random() * (size - w), "y": random() * (size - h), "w": w, "h": h}
    return {"x": 0, "y": 0, "w": size, "h": size}


def augment(pixels, random, options):
    """`augmentRgb`: optional mirror, a turn within ±rotateDegrees, a random resized crop (cropScale),
    one bilinear resample with edges clamped, then brightness and contrast; float32 in [0, 255].
    Draws in the studio's order (the crop last), float64 as JavaScript computes."""
    size = pixels.shape[0]
    flip = options["flip"] and random() < 0.5
    angle = (random() * 2 - 1) * options["rotateDegrees"] * math.pi / 180
    gain = 1 + (random() * 2 - 1) * options["brightness"]
    contrast = 1 + (random() * 2 - 1) * options["contrast"]
    scale = options.get("cropScale")
    crop = crop_window(size, scale, random) if scale and (scale[0] < 1 or scale[1] < 1) else {"x": 0, "y": 0, "w": size, "h": size}
    cos, sin, center = math.cos(angle), math.sin(angle), (size - 1) / 2
    # Output pixel → crop pixel: the crop is resized to the full size (pixel centres aligned).
    kx, ky = crop["w"] / size, crop["h"] / size
    sx0, sy0 = crop["x"] + (kx - 1) / 2, crop["y"] + (ky - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    dx = ((size - 1 - xs) if flip else xs) - center
    dy = ys - center
    sx = np.clip(sx0 + (cos * dx + sin * dy + center) * kx, 0, size - 1)
    sy = np.clip(sy0 + (-sin * dx + cos * dy + center) * ky, 0, size - 1)
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    x1, y1 = np.minimum(size - 1, x0 + 1), np.minimum(size - 1, y0 + 1)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    p = pixels.astype(np.float64)
    top = p[y0, x0] * (1 - fx) + p[y0, x1] * fx
    bottom = p[y1, x0] * (1 - fx) + p[y1, x1] * fx
    value = (top * (1 - fy) + bottom * fy) * gain
    mean = value.mean()
    return np.clip((value - mean) * contrast + mean, 0, 255).astype(np.float32)


def decode(path, size):
    """RGB bytes resized to size × size (Lanczos, as the CLI's sharp does; alpha dropped)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((size, size), Image.LANCZOS), dtype=np.uint8)


def normalise(pixels):
    """[h, w, 3] in [0, 255] → CHW float32, ImageNet-normalised (`normalizeImageNet`)."""
    x = (pixels.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


def read_manifest(root):
    path = os.path.join(root, "loupe-dataset.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is missing: --data must be the job's dataset/ folder (a Loupe dataset export)")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class SplitDataset(torch.utils.data.Dataset):
    """One split of the exported version, in a fixed order (by file name). Items are (images, target)."""

    def __init__(self, root, manifest, split, cfg, augmentation=None, seed=0):
        self.root, self.cfg, self.augmentation, self.seed = root, cfg, augmentation, seed
        self.samples = sorted((s for s in manifest["samples"] if s["split"] == split), key=lambda s: s["files"][0])
        self.epoch = 0
        self.cache = {}
        for i, sample in enumerate(self.samples):
            if len(sample.get("files", [])) != len(cfg["inputs"]):
                raise ValueError(f"loupe-dataset.json: sample {sample.get('path')!r} has {len(sample.get('files', []))} image(s), the model takes {len(cfg['inputs'])}")
            self.target(i)  # a bad label fails here, naming the sample, not mid-epoch

    def __len__(self):
        return len(self.samples)

    def set_epoch(self, epoch):
        self.epoch = epoch

    def target(self, i):
        sample, cfg = self.samples[i], self.cfg
        if cfg["architecture"] == "coin-regressor":
            year = float(sample["label"])
            if not math.isfinite(year):
                raise ValueError(f"loupe-dataset.json: sample {sample['path']!r}: year {sample['label']!r} is not a number")
            return torch.tensor((year - cfg["yearScale"]["mean"]) / cfg["yearScale"]["std"], dtype=torch.float32)
        label = str(sample["label"])
        if label not in cfg["labels"]:
            raise ValueError(f"loupe-dataset.json: sample {sample['path']!r}: label {label!r} is not one of {cfg['labels']}")
        return torch.tensor(cfg["labels"].index(label), dtype=torch.long)

    def pixels(self, i, k):
        key = (i, k)
        if key not in self.cache:
            self.cache[key] = decode(os.path.join(self.root, self.samples[i]["files"][k]), self.cfg["inputSize"])
        return self.cache[key]

    def __getitem__(self, i):
        images = []
        # One generator per sample and epoch, so every process count draws the same augmentation.
        random = mulberry32(derive_seed(self.seed, "augment", self.epoch, i)) if self.augmentation else None
        for k in range(len(self.cfg["inputs"])):
            pixels = self.pixels(i, k)
            images.append(normalise(augment(pixels, random, self.augmentation) if random else pixels))
        return tuple(images), self.target(i)
