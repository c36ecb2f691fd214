#!/usr/bin/env python3
"""Entry point of an exported Loupe job: `torchrun --nproc_per_node=N train.py`; options: --help."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loupe_ddp.train import main  # noqa: E402

if __name__ == "__main__":
    main()
