"""The PyTorch side of `npm run bench:peer`: the coin-year regressor's training step (torchvision
backbones without classifier, features concatenated, one linear unit, Huber loss, Adam) timed on this
machine's CPU. Reads one configuration as JSON from argv[1] and builds its model once; prints a JSON line
with the PyTorch version and threads, then for each line "n" on stdin takes n steps and prints their
times as a JSON line, so that the bench can take tfjs's and PyTorch's steps in turn.
"""
import json
import os
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


def stepper(config):
    torch.manual_seed(1)
    model = CoinRegressor(config["backbone"], config["mode"]).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shape = (config["batch"], 3, config["size"], config["size"])
    front, back, years = torch.randn(shape), torch.randn(shape), torch.randn(config["batch"], 1)

    # The last step's loss stays referenced until the next one replaces it, as in a training loop's
    # `loss = …`: with nothing left, the allocator gave the step's memory back to the system and the next
    # step faulted it in again (224²: ~500 ms a step instead of ~355).
    last = {}

    def step():
        start = time.perf_counter()
        optimizer.zero_grad()
        last["loss"] = torch.nn.functional.huber_loss(model(front, back), years)
        last["loss"].backward()
        optimizer.step()
        last["loss"].item()
        return (time.perf_counter() - start) * 1000

    return step


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    # All cores unless asked (`--torch-threads 1` compares one core with tfjs's one wasm thread in Node).
    torch.set_num_threads(request.get("threads") or os.cpu_count() or 1)
    step = stepper(request["config"])
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        print(json.dumps({"stepsMs": [step() for _ in range(int(line))]}), flush=True)
