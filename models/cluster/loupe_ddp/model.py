"""The studio's task models in torchvision: the same backbones (ResNet18, MobileNetV3-Small, pooled
features), fusion (concatenation, front first), projection, dropout and head, with the state-dict names of
models/weights/task-checkpoint.ts, so weights cross in both directions unchanged."""

import torch
import torchvision
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "swish": nn.SiLU, "elu": nn.ELU, "selu": nn.SELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}
FEATURES = {"resnet18": 512, "mobilenetv3-small": 576}


def make_backbone(kind, eps, momentum):
    """torchvision's network up to global average pooling; its classifier replaced by nothing."""
    if kind == "resnet18":
        net = torchvision.models.resnet18()
        net.fc = nn.Identity()
    elif kind == "mobilenetv3-small":
        net = torchvision.models.mobilenet_v3_small()
        net.classifier = nn.Identity()
    else:
        raise ValueError(f"job.json: model.backbone {kind!r} is not resnet18 or mobilenetv3-small")
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eps = eps
            module.momentum = momentum
    return net


class LoupeModel(nn.Module):
    """`forward(*images)` takes NCHW ImageNet-normalised batches, one per input, and returns the head's
    output: the normalised year [n, 1], or class logits [n, classes] (the studio's softmax is `probabilities`)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        kind = cfg["backbone"]
        eps, momentum = cfg["batchNormEpsilon"], cfg["batchNormMomentum"]
        self.inputs = list(cfg["inputs"])
        self.dual = cfg["architecture"] == "coin-regressor" and cfg.get("mode", "dual") == "dual"
        if self.dual:
            self.backbones = nn.ModuleDict({name: make_backbone(kind, eps, momentum) for name in self.inputs})
        else:
            self.backbone = make_backbone(kind, eps, momentum)
        width = FEATURES[kind] * len(self.inputs)
        projection = cfg.get("projection")
        if projection:
            self.projection = nn.Linear(width, projection["units"])
            self.activation = ACTIVATIONS[projection.get("activation") or "relu"]()
            width = projection["units"]
        self.dropout = nn.Dropout(cfg.get("dropout", 0.0))
        self.head = nn.Linear(width, 1 if cfg["architecture"] == "coin-regressor" else len(cfg["labels"]))

    def backbone_modules(self):
        return list(self.backbones.values()) if self.dual else [self.backbone]

    def forward(self, *images):
        if self.dual:
            features = [self.backbones[name](x) for name, x in zip(self.inputs, images)]
        else:
            features = [self.backbone(x) for x in images]
        x = torch.cat(features, dim=1)
        if hasattr(self, "projection"):
            x = self.activation(self.projection(x))
        return self.head(self.dropout(x))


def task_loss(cfg, output, target):
    """The studio's losses: Huber or MSE on normalised years (mean); cross-entropy of the clipped softmax."""
    output = output.float()
    if cfg["architecture"] == "coin-regressor":
        if cfg.get("loss", "huber") == "mse":
            return F.mse_loss(output[:, 0], target)
        return F.huber_loss(output[:, 0], target, delta=cfg.get("huberDelta", 1.0))
    probabilities = torch.softmax(output, dim=1)
    return F.cross_entropy(torch.log(probabilities.clamp(1e-7, 1.0)), target)
