"""Trains a Loupe job with PyTorch DistributedDataParallel.

Launch with torchrun (or anything that sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT):
    torchrun --nproc_per_node=4 train.py --out output/
Without those variables it runs as one process. gloo on CPU; nccl and mixed precision on CUDA.
Writes to --out: model.safetensors (Loupe's naming), metrics.json (the CLI's format), job.json (a copy),
checkpoints/epoch-NNNN.pt (one per epoch; --resume continues from the last).
"""

import argparse
import copy
import glob
import json
import math
import os
import shutil
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from .data import SplitDataset, read_manifest
from .metrics import EarlyStopping, classification_metrics, epoch_rates, regression_metrics
from .model import LoupeModel, task_loss
from .safetensors_io import read_safetensors, write_safetensors

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    p = argparse.ArgumentParser(description="Train a Loupe job with PyTorch DDP.")
    p.add_argument("--job", default=os.path.join(HERE, "job.json"), help="the job (default: job.json beside train.py)")
    p.add_argument("--data", default=os.path.join(HERE, "dataset"), help="the exported dataset version (default: dataset/)")
    p.add_argument("--init", default=None, help="first weights (default: the job's init.safetensors)")
    p.add_argument("--out", default="output", help="where outputs and checkpoints go (default: output/)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes per rank")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    p.add_argument("--accumulate", type=int, default=1,
                   help="split each process's batch into this many interleaved slices, accumulating gradients: one process "
                        "with --accumulate N computes what N DDP processes do (each BatchNorm sees its own slice)")
    p.add_argument("--no-amp", action="store_true", help="float32 on CUDA too (mixed precision is the CUDA default)")
    p.add_argument("--sync-bn", action="store_true", help="CUDA only: BatchNorm statistics over the global batch")
    return p.parse_args(argv)


def log(rank, message):
    if rank == 0:
        print(message, file=sys.stderr, flush=True)


def device_name(device):
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


def evaluate(model, cfg, dataset, batch_size, device):
    """Loss and metrics of a split in eval mode (`evaluateSamples`), plus the raw outputs."""
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    loss_sum, outputs, targets = 0.0, [], []
    with torch.no_grad():
        for images, target in loader:
            images = [x.to(device) for x in images]
            target = target.to(device)
            output = model(*images).float()
            loss_sum += task_loss(cfg, output, target).item() * target.shape[0]
            outputs.append(output.cpu())
            targets.append(target.cpu())
    output, target = torch.cat(outputs), torch.cat(targets)
    metrics = {"loss": loss_sum / len(dataset)}
    if cfg["architecture"] == "coin-regressor":
        scale = cfg["yearScale"]
        years = [v * scale["std"] + scale["mean"] for v in output[:, 0].double().tolist()]
        truth = [v * scale["std"] + scale["mean"] for v in target.double().tolist()]
        metrics.update(regression_metrics(truth, years))
    else:
        metrics.update(classification_metrics(target.tolist(), output.argmax(dim=1).tolist(), len(cfg["labels"])))
    return metrics


def make_optimizer(job, model):
    spec = job["spec"]
    backbone = [p for m in model.backbone_modules() for p in m.parameters()]
    ids = {id(p) for p in backbone}
    head = [p for p in model.parameters() if id(p) not in ids]
    groups = [{"params": head, "name": "head"}, {"params": backbone, "name": "backbone"}]
    if spec["optimizer"] == "adam":
        return torch.optim.Adam(groups, lr=spec["learningRate"], eps=1e-7)  # tfjs's Adam epsilon
    if spec["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=spec["learningRate"], momentum=0.9)
    raise ValueError(f"job.json: spec.optimizer {spec['optimizer']!r} is not adam or sgd")


def checkpoints(out):
    return sorted(glob.glob(os.path.join(out, "checkpoints", "epoch-*.pt")))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with open(args.job, encoding="utf-8") as f:
        job = json.load(f)
    if job.get("format") != "loupe-job":
        raise SystemExit(f"{args.job}: not a Loupe job (format {job.get('format')!r}); export one with `loupe export-job`")
    cfg, spec = job["model"], job["spec"]

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    backend = "nccl" if use_cuda else "gloo"
    if world > 1:
        dist.init_process_group(backend=backend, init_method="env://", world_size=world, rank=rank)
    amp = use_cuda and not args.no_amp

    batch = spec["batchSize"]
    if batch % (world * args.accumulate) != 0:
        raise SystemExit(f"job.json: spec.batchSize {batch} must divide evenly over {world} process(es) × --accumulate {args.accumulate}")
    per_rank = batch // world

    manifest = read_manifest(args.data)
    if manifest.get("id") != job["datasetVersion"]:
        raise SystemExit(f"{args.data}: dataset version {manifest.get('id')} is not the job's {job['datasetVersion']}")
    validation_split = spec.get("validationSplit", "val")
    train_set = SplitDataset(args.data, manifest, "train", cfg, job["augmentation"], spec["seed"])
    val_set = SplitDataset(args.data, manifest, validation_split, cfg)
    test_set = SplitDataset(args.data, manifest, "test", cfg)
    if len(train_set) == 0 or len(val_set) == 0:
        raise SystemExit(f"{args.data}: the train and {validation_split} splits need samples ({len(train_set)}, {len(val_set)})")

    torch.manual_seed(spec["seed"] + rank)  # dropout masks: per process
    model = LoupeModel(cfg)
    init_path = args.init or os.path.join(os.path.dirname(os.path.abspath(args.job)), job["initialWeights"]["file"])
    state, _ = read_safetensors(init_path)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"{init_path}: does not fit the job's model: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.to(device)
    if args.sync_bn and use_cuda and world > 1:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    net = DistributedDataParallel(model, device_ids=[local_rank] if use_cuda else None) if world > 1 else model
    optimizer = make_optimizer(job, model)
    scaler = torch.cuda.amp.GradScaler(enabled=amp)
    early = EarlyStopping(spec["earlyStopping"]) if spec.get("earlyStopping") else None
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=spec["seed"], drop_last=False)
    loader = DataLoader(train_set, batch_size=per_rank, sampler=sampler, num_workers=args.workers, persistent_workers=args.workers > 0)

    history, best, start = [], None, 1
    os.makedirs(os.path.join(args.out, "checkpoints"), exist_ok=True)
    if args.resume and checkpoints(args.out):
        saved = torch.load(checkpoints(args.out)[-1], map_location=device)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scaler.load_state_dict(saved["scaler"])
        history, best, start = saved["history"], saved["best"], saved["epoch"] + 1
        if early and saved["early"]:
            early.restore(saved["early"])
        log(rank, f"resuming after epoch {saved['epoch']}")

    mlflow = start_mlflow(rank, job, world, device)
    epochs = spec["epochs"]
    schedule = cfg.get("fineTune")
    started = time.time()
    epoch = start
    stop = False
    for epoch in range(start, epochs + 1):
        frozen, rate, backbone_rate = epoch_rates(schedule, epoch, epochs, spec["learningRate"])
        for group in optimizer.param_groups:
            group["lr"] = backbone_rate if group["name"] == "backbone" else rate
        net.train()
        for backbone in model.backbone_modules():
            backbone.train(not frozen)  # a frozen backbone's BatchNorm keeps its running statistics
        sampler.set_epoch(epoch)
        train_set.set_epoch(epoch)
        loss_sum = torch.zeros(2, dtype=torch.float64)
        epoch_start = time.time()
        for images, target in loader:
            optimizer.zero_grad(set_to_none=True)
            n = target.shape[0]
            k = min(args.accumulate, n)
            for part in range(k):
                # Interleaved slices: one process's slice p is what DDP process p of k would have got.
                piece = slice(part, None, k)
                xs = [x[piece].to(device, non_blocking=True) for x in images]
                ys = target[piece].to(device, non_blocking=True)
                with torch.autocast(device_type=device.type, enabled=amp):
                    output = net(*xs)
                loss = task_loss(cfg, output, ys)
                scaler.scale(loss * ys.shape[0] / n).backward()
                loss_sum += torch.tensor([loss.item() * ys.shape[0], ys.shape[0]], dtype=torch.float64)
            if frozen:
                for backbone in model.backbone_modules():
                    for p in backbone.parameters():
                        p.grad = None  # as the studio: no gradient, no optimizer step for frozen weights
            scaler.step(optimizer)
            scaler.update()
        if world > 1:
            dist.all_reduce(loss_sum)
        train_loss = (loss_sum[0] / loss_sum[1]).item()
        if not math.isfinite(train_loss):
            raise SystemExit(f"the loss became {train_loss} in epoch {epoch}: lower the learning rate, or use the Huber loss")
        metrics = {"loss": train_loss}
        if rank == 0:
            metrics.update({f"val_{k}": v for k, v in evaluate(model, cfg, val_set, batch, device).items()})
        if world > 1:
            shared = [metrics]
            dist.broadcast_object_list(shared, src=0)
            metrics = shared[0]
        history.append({"epoch": epoch, "metrics": metrics, "seconds": time.time() - epoch_start})
        log(rank, f"epoch {epoch}/{epochs}: " + ", ".join(f"{k} {v:.6g}" for k, v in metrics.items()))
        if early:
            improved, stop = early.update(epoch, metrics)
            if improved:
                best = copy.deepcopy({k: v.cpu() for k, v in model.state_dict().items()})
        if mlflow:
            mlflow.log_metrics(metrics, step=epoch)
        if rank == 0:
            path = os.path.join(args.out, "checkpoints", f"epoch-{epoch:04d}.pt")
            torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(),
                        "history": history, "best": best, "early": early.state() if early else None, "jobHash": job["jobHash"]}, path + ".tmp")
            os.replace(path + ".tmp", path)
            for old in checkpoints(args.out)[:-2]:
                os.remove(old)
        if world > 1:
            dist.barrier()
        if stop:
            break

    if rank == 0:
        if best is not None:
            model.load_state_dict(best)
        kept = early.best_epoch if early and early.best_epoch > 0 else history[-1]["epoch"]
        val = next(h["metrics"] for h in history if h["epoch"] == kept)
        val = {"samples": len(val_set), "metrics": {k[4:]: v for k, v in val.items() if k.startswith("val_")}}
        trained_by = {"engine": "pytorch-ddp", "processes": world, "device": device_name(device), "backend": backend if world > 1 else "none",
                      "mixedPrecision": amp, "torch": torch.__version__, "accumulate": args.accumulate, "seconds": round(time.time() - started, 3)}
        common = {"task": job["task"], "datasetVersion": job["datasetVersion"], "jobHash": job["jobHash"], "epochs": len(history), "keptEpoch": kept,
                  "history": history, "trainedBy": trained_by}
        if len(test_set) > 0:
            figures = {"split": "test", "samples": len(test_set), "metrics": evaluate(model, cfg, test_set, batch, device), "val": val, **common}
        else:
            figures = {"split": "val", **val, "val": val, "note": "the data has no test split: these are validation figures", **common}
        os.makedirs(args.out, exist_ok=True)
        write_safetensors(os.path.join(args.out, "model.safetensors"), model.state_dict(),
                          {"format": "pt", "architecture": cfg["architecture"], "backbone": cfg["backbone"], "jobHash": job["jobHash"], "datasetVersion": job["datasetVersion"]})
        with open(os.path.join(args.out, "metrics.json"), "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=1)
        shutil.copyfile(args.job, os.path.join(args.out, "job.json"))
        log(rank, f"wrote {args.out}/model.safetensors, metrics.json, job.json ({world} process(es) on {device_name(device)})")
        if mlflow:
            mlflow.log_metrics({f"{figures['split']}_{k}": v for k, v in figures["metrics"].items()})
            for name in ("model.safetensors", "metrics.json", "job.json"):
                mlflow.log_artifact(os.path.join(args.out, name))
            mlflow.end_run()
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def start_mlflow(rank, job, world, device):
    """Optional: logs to MLflow when it is importable and MLFLOW_TRACKING_URI is set (rank 0 only)."""
    if rank != 0 or not os.environ.get("MLFLOW_TRACKING_URI"):
        return None
    try:
        import mlflow  # noqa: PLC0415
    except ImportError:
        print("MLFLOW_TRACKING_URI is set but mlflow is not installed: not logging to MLflow", file=sys.stderr)
        return None
    mlflow.start_run(run_name=job["spec"].get("name") or f"loupe {job['task']}")
    flat = {"task": job["task"], "datasetVersion": job["datasetVersion"], "jobHash": job["jobHash"], "processes": world, "device": device_name(device)}
    flat.update({k: v for k, v in job["spec"].items() if isinstance(v, (int, float, str))})
    mlflow.log_params(flat)
    return mlflow


if __name__ == "__main__":
    main()
