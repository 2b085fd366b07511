"""What the input image is made from: a file, a sample, or pixels after an edit.

The session keeps its input's source beside the image, so that any working size is made
from the original (16 px -> 512 px brings back a photo's detail instead of enlarging
16 px), and undo restores the source with the image.  Arrays made here are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convplay.core.image_io import resize_long_side
from convplay.core.samples import Sample


def sealed(array: np.ndarray) -> np.ndarray:
    """``array`` itself, made read-only: only for arrays nobody else holds."""
    array.setflags(write=False)
    return array


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only float64 array with ``array``'s values: ``array`` itself when it is
    already read-only float64 (a caller handing its array over), else a copy, so that the
    caller's own array stays writeable and unshared."""
    if array.dtype != np.float64 or array.flags.writeable or not array.flags.c_contiguous:
        array = np.array(array, dtype=np.float64, order="C")
    return sealed(array)


@dataclass(frozen=True, eq=False)
class InputSource:
    """What the input image is made from, at any working size.

    ``array``: an opened file (at most MAX_WORKING_SIZE on its long side) or pixels after
    an edit; ``sample``: a built-in sample, made again at each size (a pattern is drawn at
    the size asked for, a photo is read from its file).  Exactly one of them is set.
    """

    array: np.ndarray | None = None
    sample: Sample | None = None
    name: str = ""

    @classmethod
    def from_array(cls, array: np.ndarray, name: str = "") -> "InputSource":
        return cls(array=frozen(as_image(array)), name=name)

    @classmethod
    def from_sample(cls, sample: Sample) -> "InputSource":
        return cls(sample=sample, name=sample.name)

    @property
    def fixed_size(self) -> bool:
        """True for the tutorial matrices: they are about their exact numbers and size."""
        return self.sample is not None and self.sample.fixed_size

    def own(self) -> np.ndarray:
        """The source at its own size (a fixed-size sample, an array as it is)."""
        if self.array is not None:
            return self.array
        return sealed(as_image(self.sample.image()))  # a new array per call

    def at(self, long_side: int) -> np.ndarray:
        """The source resampled so that its long side is ``long_side`` pixels."""
        if self.array is not None:
            return sealed(resize_long_side(self.array, long_side))
        if self.sample.fixed_size:
            return sealed(resize_long_side(as_image(self.sample.image()), long_side))
        return sealed(as_image(self.sample.image(long_side)))

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays this source keeps alive (for the undo history's byte count)."""
        return () if self.array is None else (self.array,)


def as_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        image = image[None]
    if image.ndim != 3:
        raise ValueError(f"an image must be (H, W) or (C, H, W), not {image.shape}")
    return image
