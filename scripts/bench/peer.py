"""The PyTorch side of `npm run bench:peer`: the coin-year regressor's training step (torchvision
backbones without classifier, features concatenated, one linear unit, Huber loss, Adam) timed on this
machine's CPU. Reads the configurations as JSON from argv[1]; prints one JSON object per configuration.
"""
import json
import os
import statistics
import sys
import time

import torch
import torchvision


def backbone(kind):
    if kind == "resnet18":
        net = torchvision.models.resnet18(weights=None)
        net.fc = torch.nn.Identity()
        return net, 512
    net = torchvision.models.mobilenet_v3_small(weights=None)
    net.classifier = torch.nn.Identity()
    return net, 576


class CoinRegressor(torch.nn.Module):
    def __init__(self, kind, mode):
        super().__init__()
        self.front, width = backbone(kind)
        self.back = self.front if mode == "shared" else backbone(kind)[0]
        self.head = torch.nn.Linear(2 * width, 1)

    def forward(self, front, back):
        return self.head(torch.cat([self.front(front), self.back(back)], dim=1))


def bench(config, warmup, rounds):
    torch.manual_seed(1)
    model = CoinRegressor(config["backbone"], config["mode"]).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shape = (config["batch"], 3, config["size"], config["size"])
    front, back, years = torch.randn(shape), torch.randn(shape), torch.randn(config["batch"], 1)
    times = []
    for i in range(warmup + rounds):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = torch.nn.functional.huber_loss(model(front, back), years)
        loss.backward()
        optimizer.step()
        loss.item()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    return {**config, "torch": torch.__version__, "threads": torch.get_num_threads(), "stepsMs": [round(t) for t in times], "medianMs": statistics.median(times)}


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    # All cores unless asked (`--torch-threads 1` compares one core with tfjs's one wasm thread in Node).
    torch.set_num_threads(request.get("threads") or os.cpu_count() or 1)
    for config in request["configs"]:
        print(json.dumps(bench(config, request["warmup"], request["rounds"])), flush=True)
