"""Train the small CNN whose kernels ship with convplay as "learned kernels".

    python tools/train_digits.py [--out resources/kernels]

Data: scikit-learn's bundled 8x8 digits (no download; scikit-learn is a development
dependency only, the `dev` extra).  Network: conv 1->8 3x3, ReLU, conv 8->16 3x3, ReLU,
2x2 max pool, linear 256->10.  Fixed seed, one thread, deterministic algorithms, so a rerun
on the same torch reproduces the recorded test accuracy.  Writes digits_cnn.safetensors (the
state_dict, a few KB) and digits_cnn.json (test accuracy, seed, torch version, layer shapes).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

SEED = 0
EPOCHS = 10
BATCH = 64
LR = 1e-2
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "resources" / "kernels"


class DigitsCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc(x.flatten(1))


def load_digits_split(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train / test tensors: images scaled to [0, 1], 25 % held out, stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.25, random_state=seed, stratify=digits.target
    )
    return (torch.from_numpy(x_train), torch.from_numpy(y_train), torch.from_numpy(x_test), torch.from_numpy(y_test))


def train(seed: int = SEED) -> tuple[DigitsCNN, float]:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits_split(seed)
    model = DigitsCNN()
    optimiser = torch.optim.Adam(model.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(EPOCHS):
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            optimiser.zero_grad()
            loss_fn(model(x_train[batch]), y_train[batch]).backward()
            optimiser.step()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    return model, accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the weights and the record")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model, accuracy = train(args.seed)
    seconds = time.perf_counter() - started
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(state, str(args.out / "digits_cnn.safetensors"))
    record = {
        "test_accuracy": round(accuracy, 6),
        "seed": args.seed,
        "torch": torch.__version__,
        "epochs": EPOCHS,
        "train_seconds": round(seconds, 2),
        "layers": {k: list(v.shape) for k, v in state.items()},
    }
    (args.out / "digits_cnn.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"test accuracy {accuracy:.4f} after {seconds:.2f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
