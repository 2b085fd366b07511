"""Start-up tuning of the CPU runtime: glibc's allocator and torch's thread count.

Why: a conv output of 16 MB or more is, by default, a fresh ``mmap`` on every call, and
the kernel then page-faults on every page the conv writes; that costs more than the
arithmetic.  Keeping freed memory in one heap makes the next call reuse warm pages.
``tune_allocator`` must run before the large allocations it is meant to affect, so call
it first thing at start-up (before ``import torch``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

# mallopt parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

_MiB = 1 << 20
_INT_MAX = (1 << 31) - 1  # mallopt's values are C ints: 2 GiB less a byte is the most

# (parameter, value): allocations up to 2 GiB come from the heap (the largest output the
# window allows, 2048² x 64 channels of float32, is exactly 1 GiB: at a 1 GiB threshold it
# was mmap'ed afresh and page-faulted on every call, 5-9 s instead of 0.3-3 s), freed
# memory stays mapped up to 2 GiB, the heap grows in 256 MiB steps, and worker threads
# share the main arena instead of each keeping its own.
_SETTINGS = (
    (_M_MMAP_THRESHOLD, _INT_MAX),
    (_M_TRIM_THRESHOLD, _INT_MAX),
    (_M_TOP_PAD, 256 * _MiB),
    (_M_ARENA_MAX, 1),
)


def _glibc():
    """glibc loaded through ctypes, or None off Linux, on other C libraries (musl), or
    when the C library cannot be loaded."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def tune_allocator() -> bool:
    """Apply the allocator settings; True when glibc accepted all of them.

    A silent no-op (False) off Linux, on other C libraries (musl), or when the C library
    cannot be loaded.
    """
    libc = _glibc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # A list, not a generator: apply every setting even when an earlier one is refused.
    return all([mallopt(param, value) == 1 for param, value in _SETTINGS])


def release_memory() -> bool:
    """Give the heap's free pages back to the system (glibc ``malloc_trim(0)``).

    Why: with the trim threshold above, memory freed by the program stays mapped for the
    next convolution; after clearing the undo history (hundreds of MiB of old images) the
    user expects the process to shrink.  True when glibc returned memory; False where
    nothing could be returned or the C library is not glibc (a no-op there).
    """
    libc = _glibc()
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return False
    trim.argtypes = (ctypes.c_size_t,)
    trim.restype = ctypes.c_int
    return trim(0) == 1


# Up to this many cores PyTorch gets all of them; on more, all but one.
ALL_CORES_UP_TO = 4


def compute_threads(cpu_count: int | None = None) -> int:
    """How many intra-op threads torch should use.

    On a 2-core machine two threads run a 3x3 conv 1.65-2.6 times faster than one
    (benchmarks/raw_conv.py, 256² to 1024²), and the window still ticks at 60 Hz while
    they run: the UI thread sleeps between events and the scheduler wakes it within a
    millisecond (benchmarks/timer_gaps.py).  So small machines give PyTorch every core;
    above ``ALL_CORES_UP_TO`` one core is left to the window, where it costs PyTorch at
    most a fifth.
    """
    cores = cpu_count if cpu_count is not None else _usable_cpus()
    return max(1, cores if cores <= ALL_CORES_UP_TO else cores - 1)


def animation_threads(cpu_count: int | None = None) -> int:
    """The intra-op threads while an animation plays: one core left to the window.

    Why: a frame of the sliding window is 12-15 ms of the UI thread's time; with PyTorch on
    both cores of a 2-core machine it painted 38 fps instead of 55 (benchmarks/animation.py).
    """
    cores = cpu_count if cpu_count is not None else _usable_cpus()
    return max(1, min(compute_threads(cores), cores - 1))


def _usable_cpus() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def apply_thread_policy(cpu_count: int | None = None) -> int:
    """Set torch's intra-op thread count to ``compute_threads`` and return it (imports torch)."""
    import torch

    threads = compute_threads(cpu_count)
    torch.set_num_threads(threads)
    return threads
