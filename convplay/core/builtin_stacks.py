"""The models that ship with convplay as layer stacks, and the digits the trained one is shown.

Each model's code is a file in resources/networks (``<key>.py``): data, read as text and
parsed like code a user pastes, never imported.  The digits CNN comes with the weights
tools/train_digits.py trained and with its held-out test images (digits_test.npz, written
by tools/make_digits_images.py), so the app shows real class scores with no download and
no scikit-learn.  The CIFAR-10 and MNIST models take PyTorch's initialisation; the MNIST
one is kept exactly as it was published, with a Linear layer of the wrong size, because the
stack view's diagnosis of it is the lesson.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from convplay.core.layers import Stack
from convplay.core.resources import resource_path

DIGITS_TEST = ("networks", "digits_test.npz")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DIGIT_CLASSES = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class BuiltinStack:
    """A built-in model: ``key`` (its file resources/networks/<key>.py), what it is for a
    person (``title``, ``description``), the ``input_shape`` (C, H, W) it takes, its
    trained ``weights`` as a resource path ("kernels/digits_cnn.safetensors") or None for
    PyTorch's initialisation, and its class ``labels`` (None: not a classifier)."""

    key: str
    title: str
    description: str
    input_shape: tuple[int, int, int]
    weights: str | None = None
    labels: tuple[str, ...] | None = None

    @property
    def code(self) -> str:
        """The model's PyTorch code, as text."""
        return _code(self.key)

    @property
    def weights_path(self) -> Path | None:
        return resource_path(*self.weights.split("/")) if self.weights else None


BUILTIN_STACKS: dict[str, BuiltinStack] = {
    info.key: info
    for info in (
        BuiltinStack(
            "digits",
            "The digits CNN (trained, 8×8)",
            "A small CNN trained on scikit-learn's 8×8 handwritten digits: two 3×3 convolutions with "
            "ReLU, a 2×2 max-pool and a linear layer to ten class scores. It gets 97.8 % of its 450 "
            "held-out test digits right. Draw a digit on the canvas and watch the scores change.",
            (1, 8, 8),
            "kernels/digits_cnn.safetensors",
            DIGIT_CLASSES,
        ),
        BuiltinStack(
            "cifar10",
            "A CIFAR-10 CNN",
            "An image classifier for 32×32 colour pictures in ten classes: two 3×3 convolutions of 32 "
            "feature maps each, a 2×2 max-pool, dropout and two linear layers. Its weights are "
            "PyTorch's initialisation (untrained), so its class scores mean nothing yet, but every "
            "layer's feature maps can be looked at.",
            (3, 32, 32),
            None,
            CIFAR10_CLASSES,
        ),
        BuiltinStack(
            "mnist",
            "An MNIST CNN with a wrong Linear size",
            "A classifier for 28×28 handwritten digits whose code declares nn.Linear(32 * 12 * 12, 10): "
            "after two 3×3 convolutions and two 2×2 max-pools the maps are 32×5×5, which is 800 "
            "values, not 4608. The stack stops at that layer and says the fix. Its x.view(-1, 4608) "
            "even runs for a batch of 144 and silently mixes the images. Weights are PyTorch's "
            "initialisation.",
            (1, 28, 28),
            None,
            DIGIT_CLASSES,
        ),
    )
}


@cache
def _code(key: str) -> str:
    return resource_path("networks", f"{key}.py").read_text(encoding="utf-8")


def builtin_info(key: str) -> BuiltinStack:
    try:
        return BUILTIN_STACKS[key]
    except KeyError:
        raise KeyError(f"no built-in model {key!r}; there are {', '.join(BUILTIN_STACKS)}") from None


@cache
def builtin_stack(key: str) -> tuple[Stack, BuiltinStack]:
    """The built-in model ``key`` parsed from its code, with its title and input shape."""
    from convplay.core.stack_parse import parse_stack

    info = builtin_info(key)
    stack = parse_stack(info.code)
    return dataclasses.replace(stack, title=info.title, input_shape=info.input_shape), info


@lru_cache(maxsize=1)
def _digits_test() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(resource_path(*DIGITS_TEST), allow_pickle=False) as data:
        images, labels, examples = data["images"], data["labels"], data["examples"]
    scaled = (images.astype(np.float32) / np.float32(16.0))[:, None]
    labels, examples = labels.astype(np.int64), examples.astype(np.int64)
    for array in (scaled, labels, examples):
        array.flags.writeable = False  # shared by every caller
    return scaled, labels, examples


def digits_examples() -> tuple[np.ndarray, np.ndarray]:
    """The digits CNN's 450 test images, (N, 1, 8, 8) float32 in [0, 1] as the network saw
    them in training, and their labels 0..9 (read-only arrays)."""
    images, labels, _ = _digits_test()
    return images, labels


def digit_example(label: int) -> np.ndarray:
    """A typical test image of the digit ``label`` (the one nearest the digit's mean), (8, 8)
    float64 in [0, 1], for the canvas."""
    if label not in range(10):
        raise ValueError(f"digits are 0 to 9, not {label!r}")
    images, _, examples = _digits_test()
    return images[int(examples[label]), 0].astype(np.float64)
