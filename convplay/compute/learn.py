"""Learning a kernel by gradient descent, as seed 001 does: given an input and a target
output, find the kernel whose (valid, stride 1) convolution of the input gives the target.

:class:`KernelLearner` keeps the kernel and the optimiser between calls, so a Qt worker can
run it in chunks, report each chunk, stop between chunks and resume later.  float64
throughout, so the loss can go far below 1e-3.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np
import torch
import torch.nn.functional as F

OPTIMISERS = ("sgd", "adam")


def seed001_example() -> tuple[np.ndarray, np.ndarray]:
    """Seed 001's 6x6 input (10s on the left half, 0s on the right) and its 4x4 target."""
    x = np.zeros((1, 6, 6))
    x[:, :, :3] = 10.0
    y = np.zeros((1, 4, 4))
    y[:, :, 1:3] = 30.0
    return x, y


def hidden_kernel_target(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The target a hidden 2-D kernel makes from ``image`` (C, H, W): valid conv, summed over channels.

    Each channel gets ``kernel / C``, so the target is the kernel applied to the channel mean.
    """
    image = np.array(image, dtype=np.float64)  # a copy: torch warns on the session's read-only arrays
    c = image.shape[0]
    weight = np.broadcast_to(np.asarray(kernel, dtype=np.float64) / c, (1, c, *np.shape(kernel)))
    with torch.no_grad():
        out = F.conv2d(torch.from_numpy(image)[None], torch.from_numpy(np.ascontiguousarray(weight)))
    return out[0].numpy()


def random_kernel(shape: tuple[int, int, int, int], seed: int = 0) -> np.ndarray:
    """A kernel initialised as nn.Conv2d does (uniform in +-1/sqrt(fan_in)), reproducibly."""
    fan_in = shape[1] * shape[2] * shape[3]
    bound = 1.0 / math.sqrt(fan_in)
    return np.random.default_rng(seed).uniform(-bound, bound, size=shape)


@dataclass(frozen=True)
class LearnStep:
    """The state after ``step`` updates: the loss before the last update, the kernel and output after it."""

    step: int
    loss: float
    kernel: np.ndarray  # (1, C, kh, kw)
    output: np.ndarray  # (1, H-kh+1, W-kw+1)


class KernelLearner:
    """Gradient descent on a single-output kernel with MSE loss (seed 001's loop).

    ``image`` is (C, H, W) or (H, W); ``target`` is (1, H-kh+1, W-kw+1) or 2-D.
    ``initial`` is the starting kernel, (kh, kw) or (1, C, kh, kw).
    """

    def __init__(
        self,
        image: np.ndarray,
        target: np.ndarray,
        initial: np.ndarray,
        optimiser: str = "sgd",
        lr: float = 1e-3,
    ):
        # Copies: torch.from_numpy below warns on read-only arrays such as the session's.
        image = np.array(image, dtype=np.float64)
        image = image[None] if image.ndim == 2 else image
        target = np.array(target, dtype=np.float64)
        target = target[None] if target.ndim == 2 else target
        initial = np.asarray(initial, dtype=np.float64)
        if initial.ndim == 2:
            initial = np.broadcast_to(initial, (1, image.shape[0], *initial.shape))
        if initial.ndim != 4 or initial.shape[:2] != (1, image.shape[0]):
            raise ValueError(f"the initial kernel {initial.shape} does not fit a {image.shape[0]}-channel input")
        kh, kw = initial.shape[2:]
        expected = (1, image.shape[1] - kh + 1, image.shape[2] - kw + 1)
        if target.shape != expected:
            raise ValueError(
                f"the target is {target.shape[1]}x{target.shape[2]}; a {kh}x{kw} kernel on a "
                f"{image.shape[1]}x{image.shape[2]} input gives {expected[1]}x{expected[2]}"
            )
        if optimiser not in OPTIMISERS:
            raise ValueError(f"optimiser must be one of {OPTIMISERS}, not {optimiser!r}")
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"the learning rate must be a positive number, not {lr}")
        self._x = torch.from_numpy(image)[None]
        self._y = torch.from_numpy(target)[None]
        self._w = torch.tensor(initial, dtype=torch.float64, requires_grad=True)
        if optimiser == "sgd":
            self._opt: torch.optim.Optimizer = torch.optim.SGD([self._w], lr=lr)
        else:
            self._opt = torch.optim.Adam([self._w], lr=lr)
        self.step = 0
        self._stop = threading.Event()
        self.last_loss: Optional[float] = None

    @property
    def kernel(self) -> np.ndarray:
        return self._w.detach().numpy().copy()

    def output(self) -> np.ndarray:
        with torch.no_grad():
            return F.conv2d(self._x, self._w)[0].numpy().copy()

    def stop(self) -> None:
        """Ask a running :meth:`run` to return after the chunk in progress (any thread)."""
        self._stop.set()

    def run(self, steps: int, chunk: int = 10) -> Iterator[LearnStep]:
        """Take up to ``steps`` more updates, yielding the state every ``chunk`` updates and at the end.

        Stops early (after a chunk) when :meth:`stop` was called or the loss became NaN;
        calling ``run`` again resumes where it left off.
        """
        self._stop.clear()
        # These tensors are tiny: a second OpenMP thread made each step 25-50x slower on a
        # busy 2-core machine.  The thread count is per calling thread, so this leaves
        # the app's own convolutions alone; it is restored when the run ends.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            done = 0
            while done < steps and not self._stop.is_set():
                n = min(chunk, steps - done)
                for _ in range(n):
                    self._opt.zero_grad()
                    loss = F.mse_loss(F.conv2d(self._x, self._w), self._y)
                    loss.backward()
                    self._opt.step()
                done += n
                self.step += n
                self.last_loss = float(loss.detach())
                yield LearnStep(self.step, self.last_loss, self.kernel, self.output())
                if not math.isfinite(self.last_loss):
                    return
        finally:
            torch.set_num_threads(threads)
