"""Loupe's training job on PyTorch: the studio's model, data, loss, schedule and early stopping, run by
DistributedDataParallel under any launcher (torchrun, TorchDistributor, Ray Train). See README.md."""
