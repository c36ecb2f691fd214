"""The studio's metrics (src/lib/tasks/metrics.ts) and early stopping (src/lib/training/early-stopping.ts)."""

import math


def regression_metrics(y_true, y_pred):
    n = len(y_true)
    mean = sum(y_true) / n
    errors = [p - t for t, p in zip(y_true, y_pred)]
    absolute = sorted(abs(e) for e in errors)
    sq = sum(e * e for e in errors)
    tot = sum((t - mean) ** 2 for t in y_true)
    r2 = (1.0 if sq == 0 else 0.0) if tot == 0 else 1 - sq / tot
    mid = n // 2
    median = absolute[mid] if n % 2 else (absolute[mid - 1] + absolute[mid]) / 2
    return {"mae": sum(absolute) / n, "rmse": math.sqrt(sq / n), "r2": r2, "medianAe": median}


def classification_metrics(y_true, y_pred, classes):
    confusion = [[0] * classes for _ in range(classes)]
    for t, p in zip(y_true, y_pred):
        confusion[t][p] += 1
    f1s = []
    for c in range(classes):
        tp = confusion[c][c]
        support = sum(confusion[c])
        predicted = sum(row[c] for row in confusion)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        # As scikit-learn's macro average: classes neither present nor predicted do not count.
        if support > 0 or predicted > 0:
            f1s.append(f1)
    return {"accuracy": sum(confusion[c][c] for c in range(classes)) / len(y_true), "macroF1": sum(f1s) / len(f1s)}


class EarlyStopping:
    """Stops once `patience` (at least 1) epochs pass without the monitored metric improving by minDelta."""

    def __init__(self, config):
        self.monitor = config["monitor"]
        self.patience = max(1, int(config.get("patience", 0)))
        self.min_delta = config.get("minDelta", 0) or 0
        self.mode = config["mode"]
        self.best = math.nan
        self.best_epoch = -1
        self.wait = 0

    def update(self, epoch, metrics):
        if self.monitor not in metrics:
            raise KeyError(f"earlyStopping.monitor {self.monitor!r} is not a metric of this run; available: {', '.join(metrics)}")
        value = metrics[self.monitor]
        if math.isnan(self.best):
            improved = True
        elif self.mode == "min":
            improved = value < self.best - self.min_delta
        else:
            improved = value > self.best + self.min_delta
        if improved:
            self.best, self.best_epoch, self.wait = value, epoch, 0
        else:
            self.wait += 1
        return improved, (not improved and self.wait >= self.patience)

    def state(self):
        return {"best": self.best, "bestEpoch": self.best_epoch, "wait": self.wait}

    def restore(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["bestEpoch"], state["wait"]


def epoch_rates(schedule, epoch, epochs, learning_rate):
    """`epochRates` of src/lib/training/fine-tune.ts: warm-up, cosine, frozen epochs, backbone multiplier."""
    schedule = schedule or {}
    warmup = schedule.get("warmupEpochs", 0) or 0
    factor = 1.0
    if epoch <= warmup:
        factor = epoch / warmup
    elif schedule.get("cosine"):
        span = epochs - warmup
        factor = 0.5 * (1 + math.cos(math.pi * (epoch - warmup - 1) / span)) if span > 0 else 1.0
    frozen = epoch <= (schedule.get("freezeEpochs", 0) or 0)
    rate = learning_rate * factor
    return frozen, rate, 0.0 if frozen else rate * (schedule.get("backboneLrMultiplier", 1) or 1)
