"""Write the digits CNN's test images, so the app can show them without scikit-learn.

    python tools/make_digits_images.py [--out resources/networks]

The 25 % test split of scikit-learn's 8x8 digits exactly as tools/train_digits.py holds it
out (same seed, stratified): 450 images as uint8 0..16 (scikit-learn's own values; the
network sees value / 16) and their labels, plus for each digit the index of its most
typical image (the one nearest that digit's mean), which the canvas offers.  Writes
digits_test.npz, read back with np.load(..., allow_pickle=False).
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "resources" / "networks"


def _train_digits():
    spec = importlib.util.spec_from_file_location("train_digits", HERE / "train_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def held_out(seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The test images (N, 8, 8) as uint8 0..16 and their labels, as train_digits splits them."""
    train_digits = _train_digits()
    _, _, x_test, y_test = train_digits.load_digits_split(train_digits.SEED if seed is None else seed)
    images = np.rint(x_test.numpy()[:, 0] * 16.0)
    assert images.min() >= 0 and images.max() <= 16
    return images.astype(np.uint8), y_test.numpy().astype(np.int64)


def typical(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each digit 0..9, the index of its image nearest the digit's mean image."""
    out = []
    for digit in range(10):
        where = np.flatnonzero(labels == digit)
        group = images[where].astype(np.float64)
        distance = ((group - group.mean(0)) ** 2).sum(axis=(1, 2))
        out.append(int(where[np.argmin(distance)]))
    return np.array(out, dtype=np.int64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for digits_test.npz")
    args = parser.parse_args(argv)
    images, labels = held_out()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "digits_test.npz"
    np.savez_compressed(path, images=images, labels=labels, examples=typical(images, labels))
    print(f"{len(images)} test images -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
