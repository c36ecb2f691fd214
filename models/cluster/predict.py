#!/usr/bin/env python3
"""Predictions of a trained job's weights: `python3 predict.py --job job.json --weights output/model.safetensors --images a.png`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loupe_ddp.predict import main  # noqa: E402

if __name__ == "__main__":
    main()
