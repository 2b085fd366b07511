"""Builds the built-in lessons, resources/lessons/<id>.json, from the data in this file.

    python tools/make_lessons.py           # write the files
    python tools/make_lessons.py --check   # exit 1 if a file differs from what this builds

The JSON files are committed (they are what the app reads); this script is where they are
edited, and tests/core/test_lessons.py checks that the two have not drifted apart.  Every
number a caption or formula line claims is checked there against PyTorch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LESSONS_DIR = ROOT / "resources" / "lessons"

SLIDING = {"workspace": "sliding", "animation_step": 1}
EXPLORE = {"workspace": "explore", "animation_step": None}


# -- building blocks ------------------------------------------------------------------------


def array(values) -> dict:
    values = np.asarray(values, dtype=np.float64)
    return {"dtype": "float64", "shape": list(values.shape), "data": values.tolist()}


def ramp(n: int, channels: int = 1) -> np.ndarray:
    """1, 2, … n² row by row: every cell can be named by its value."""
    return np.arange(1, channels * n * n + 1, dtype=np.float64).reshape(channels, n, n)


def ones_kernel(k: int) -> np.ndarray:
    return np.ones((1, 1, k, k))


def per_channel(kernel, out_channels: int, in_channels: int) -> np.ndarray:
    """The same 2-D kernel on every (out, in) pair."""
    kernel = np.asarray(kernel, dtype=np.float64)
    return np.broadcast_to(kernel, (out_channels, in_channels, *kernel.shape)).copy()


def pair(value) -> list[int]:
    return list(value) if isinstance(value, (tuple, list)) else [value, value]


def spec(*, in_channels=1, out_channels=1, kernel_size=3, stride=1, padding=0, dilation=1,
         groups=1, bias=False, padding_mode="zeros", transposed=False, output_padding=0) -> dict:
    return {
        "in_channels": in_channels,
        "out_channels": out_channels,
        "kernel_size": pair(kernel_size),
        "stride": pair(stride),
        "padding": padding if isinstance(padding, str) else pair(padding),
        "dilation": pair(dilation),
        "groups": groups,
        "bias": bias,
        "padding_mode": padding_mode,
        "transposed": transposed,
        "output_padding": pair(output_padding),
    }


def state(input_: dict, conv: dict, weight, *, kernel_name: str = "", view: dict | None = None) -> dict:
    out = {
        "input": input_,
        "spec": conv,
        "true_convolution": False,
        "weight": array(weight),
        "bias": None,
    }
    if kernel_name:
        out["kernel_name"] = kernel_name
    out["view"] = dict(view or SLIDING)
    return out


def step(title: str, caption: str, state_: dict, *, formula=(), ask: str = "", hide=(),
         output_shape=None, output=None, pooling: dict | None = None) -> dict:
    out: dict = {"title": title, "caption": caption, "ask": ask, "hide": list(hide)}
    if formula:
        out["formula"] = list(formula)
    expect: dict = {}
    if output_shape is not None:
        expect["output_shape"] = list(output_shape)
    if output is not None:
        expect["output"] = np.asarray(output, dtype=np.float64).tolist()
    if expect:
        out["expect"] = expect
    if pooling is not None:  # the expect is then the pooling's output
        out["pooling"] = pooling
    out["state"] = state_
    return out


def lesson(title: str, description: str, steps: list[dict]) -> dict:
    return {
        "format": "convplay",
        "version": 1,
        "kind": "lesson",
        "title": title,
        "description": description,
        "steps": steps,
    }


def inline(values) -> dict:
    return {"array": array(values)}


ASK_SIZE = "What size will the output be?"
# While the class thinks, the formula panel would give the answer away.
HIDE_ANSWER = ("formula",)


# -- Convolution arithmetic: the guide's 15 relationships, in its order, and a 16th ----------


def direct(number: int, title: str, caption: str, *, i: int, k: int, s: int = 1, p=0, d: int = 1,
           o: int, formula, weight=None, ask: str = "", kernel_name: str = "Ones", pooling: dict | None = None,
           view: dict | None = None) -> dict:
    conv = spec(kernel_size=k, stride=s, padding=p, dilation=d)
    return step(
        f"{number} · {title}", caption,
        state(inline(ramp(i)), conv, ones_kernel(k) if weight is None else weight, kernel_name=kernel_name,
              view=view),
        formula=formula, ask=ask, hide=HIDE_ANSWER if ask else (), output_shape=[1, o, o], pooling=pooling,
    )


def transposed(number: int, title: str, caption: str, *, i_prime: int, k: int, s: int = 1, p: int = 0,
               a: int = 0, o: int, formula, ask: str = "") -> dict:
    """nn.ConvTranspose2d with the direct convolution's k, s, p (and a = output_padding),
    on an input of the direct convolution's output size i′."""
    conv = spec(kernel_size=k, stride=s, padding=p, transposed=True, output_padding=a)
    return step(
        f"{number} · {title}", caption,
        state(inline(ramp(i_prime)), conv, ones_kernel(k), kernel_name="Ones"),
        formula=formula, ask=ask, hide=HIDE_ANSWER if ask else (), output_shape=[1, o, o],
    )


def arithmetic() -> dict:
    steps = [
        direct(
            1, "No padding, unit stride",
            "A 3×3 kernel slides over a 4×4 input one cell at a time. It fits in 4 − 3 + 1 = 2 "
            "places across and 2 down, so the output is 2×2. The kernel is all ones, so each "
            "output value is the sum of the 9 input values under it.",
            i=4, k=3, o=2, ask=ASK_SIZE,
            formula=["o = (i − k) + 1", "o = (4 − 3) + 1 = 2"],
        ),
        direct(
            2, "Padding p, unit stride",
            "Two rings of zeros around the 5×5 input make it 9×9, and the 4×4 kernel fits in "
            "9 − 4 + 1 = 6 places: padding can make the output larger than the input. The corner "
            "outputs see mostly padding.",
            i=5, k=4, p=2, o=6,
            formula=["o = (i − k) + 2p + 1", "o = (5 − 4) + 2·2 + 1 = 6"],
        ),
        direct(
            3, "Half padding",
            "With an odd kernel and p = ⌊k/2⌋ the output is exactly as large as the input: a 3×3 "
            "kernel with padding 1 keeps 5×5. This is what PyTorch's padding='same' does for an "
            "odd kernel.",
            i=5, k=3, p=1, o=5,
            formula=["o = i   (k odd, p = ⌊k/2⌋)", "p = ⌊3/2⌋ = 1", "o = (5 − 3) + 2·1 + 1 = 5"],
        ),
        direct(
            4, "Full padding",
            "Padding p = k − 1 lets the kernel stop wherever it overlaps the input by at least one "
            "cell: the output grows by k − 1 to 7×7. The corner outputs see a single input value.",
            i=5, k=3, p=2, o=7,
            formula=["o = i + (k − 1)   (p = k − 1)", "p = 3 − 1 = 2", "o = 5 + (3 − 1) = 7"],
        ),
        direct(
            5, "No padding, stride s",
            "Stride 2 moves the kernel two cells at a time: on the 5×5 input the 3×3 kernel stops "
            "at the first and the third column only, and the same down, so the output is 2×2.",
            i=5, k=3, s=2, o=2, ask=ASK_SIZE,
            formula=["o = ⌊(i − k)/s⌋ + 1", "o = ⌊(5 − 3)/2⌋ + 1 = 2"],
        ),
        direct(
            6, "Padding and stride",
            "Padding 1 and stride 2 on the 5×5 input give 3×3. The floor matters: a 6×6 input "
            "gives 3×3 as well, and then the kernel never reaches its last row and column.",
            i=5, k=3, s=2, p=1, o=3,
            formula=[
                "o = ⌊(i + 2p − k)/s⌋ + 1",
                "o = ⌊(5 + 2·1 − 3)/2⌋ + 1 = 3",
                "i = 6: ⌊(6 + 2·1 − 3)/2⌋ + 1 = 3 as well (the last row and column are never read)",
            ],
        ),
        direct(
            7, "Pooling",
            "Pooling slides a window as a convolution does, but takes each window's maximum or "
            "mean instead of a weighted sum; its output size follows the same rule. The pooling view "
            "steps 3×3 average pooling with stride 1 through the 5×5 window by window, each output "
            "the sum of its nine cells over 9. The convolution behind it has the same 3×3 window "
            "with weights of 1/9, so it gives the same means.",
            i=5, k=3, s=1, o=3, weight=np.full((1, 1, 3, 3), 1 / 9), kernel_name="Mean 3×3",
            pooling={"kind": "avg", "kernel_size": 3, "stride": 1}, view={"workspace": "pooling"},
            formula=["o = ⌊(i − k)/s⌋ + 1", "o = ⌊(5 − 3)/1⌋ + 1 = 3"],
        ),
        transposed(
            8, "Transposed: no padding, unit stride",
            "A transposed convolution goes the other way: it takes step 1's 2×2 output back to "
            "4×4. The settings are those of the convolution it transposes (kernel 3, stride 1, "
            "padding 0). PyTorch scatters: each input value stamps the kernel, times itself, onto "
            "the output, and overlapping stamps add up. A direct convolution gives the same: pad "
            "the 2×2 input with p′ = k − 1 = 2 zeros on every side and slide the kernel, turned by "
            "180°, with stride 1 (a kernel of ones looks the same turned).",
            i_prime=2, k=3, o=4, ask=ASK_SIZE,
            formula=[
                "o′ = i′ + (k − 1)",
                "i′ = 2, k′ = 3, s′ = 1, p′ = k − 1 = 2, a = 0",
                "o′ = 2 + (3 − 1) = 4",
            ],
        ),
        transposed(
            9, "Transposed: padding p, unit stride",
            "The transpose of step 2 takes its 6×6 output back to 5×5. The equivalent direct "
            "convolution pads by p′ = k − p − 1 = 1 only: in nn.ConvTranspose2d the padding "
            "argument p = 2 trims the output instead of padding the input.",
            i_prime=6, k=4, p=2, o=5,
            formula=[
                "o′ = i′ + (k − 1) − 2p",
                "i′ = 6, k′ = 4, s′ = 1, p′ = k − p − 1 = 1, a = 0",
                "o′ = 6 + (4 − 1) − 2·2 = 5",
            ],
        ),
        transposed(
            10, "Transposed: half padding",
            "The transpose of half padding is half padding again: p′ = p = 1, and 5×5 stays 5×5.",
            i_prime=5, k=3, p=1, o=5,
            formula=[
                "o′ = i′   (p′ = p)",
                "i′ = 5, k′ = 3, s′ = 1, p′ = 1, a = 0",
                "o′ = i′ + (k − 1) − 2p = 5 + (3 − 1) − 2·1 = 5",
            ],
        ),
        transposed(
            11, "Transposed: full padding",
            "The transpose of full padding is a direct convolution with no padding at all "
            "(p′ = 0): step 4's 7×7 output goes back to 5×5.",
            i_prime=7, k=3, p=2, o=5,
            formula=[
                "o′ = i′ − (k − 1)   (p′ = 0)",
                "i′ = 7, k′ = 3, s′ = 1, p′ = 0, a = 0",
                "o′ = 7 − (3 − 1) = 5",
            ],
        ),
        transposed(
            12, "Transposed: no padding, stride s",
            "Step 5's 2×2 output back to 5×5. The direct convolution's stride becomes zeros between "
            "the input's cells: the 2×2 is stretched to ĩ′ = 3 with one zero between its units, "
            "padded by p′ = k − 1 = 2 and convolved with stride 1, hence the name 'fractionally "
            "strided convolution'. The scatter puts the stamps 2 cells apart.",
            i_prime=2, k=3, s=2, o=5,
            formula=[
                "o′ = s(i′ − 1) + k",
                "i′ = 2, ĩ′ = 3 (1 zero between units), k′ = 3, s′ = 1, p′ = k − 1 = 2, a = 0",
                "o′ = 2·(2 − 1) + 3 = 5",
            ],
        ),
        transposed(
            13, "Transposed: padding p, stride s",
            "Step 6's 3×3 output back to 5×5: one zero between the units stretches the input to "
            "ĩ′ = 5, padded by p′ = k − p − 1 = 1, then a direct convolution with stride 1.",
            i_prime=3, k=3, s=2, p=1, o=5,
            formula=[
                "o′ = s(i′ − 1) + k − 2p",
                "i′ = 3, ĩ′ = 5 (1 zero between units), k′ = 3, s′ = 1, p′ = k − p − 1 = 1, a = 0",
                "o′ = 2·(3 − 1) + 3 − 2·1 = 5",
            ],
        ),
        transposed(
            14, "Transposed: the general case",
            "A 5×5 and a 6×6 input both give 3×3 with kernel 3, stride 2 and padding 1 (step 6), "
            "so going back is ambiguous. a = (i + 2p − k) mod s counts the rows and columns the "
            "floor dropped; it is PyTorch's output_padding, added at the bottom and the right, and "
            "with a = 1 the 3×3 goes back to 6×6.",
            i_prime=3, k=3, s=2, p=1, a=1, o=6, ask=ASK_SIZE,
            formula=[
                "o′ = s(i′ − 1) + a + k − 2p",
                "a = (i + 2p − k) mod s = (6 + 2·1 − 3) mod 2 = 1",
                "i′ = 3, ĩ′ = 5 (1 zero between units), k′ = 3, s′ = 1, p′ = 1, a = 1",
                "o′ = 2·(3 − 1) + 1 + 3 − 2·1 = 6",
            ],
        ),
        direct(
            15, "Dilation",
            "Dilation 2 spreads the 3×3 kernel's taps two cells apart: its 9 weights cover a 5×5 "
            "patch (k̂ = 5) of the 7×7 input, which fits 7 − 5 + 1 = 3 times across.",
            i=7, k=3, d=2, o=3,
            formula=[
                "k̂ = k + (k − 1)(d − 1) = 3 + 2·1 = 5",
                "o = ⌊(i + 2p − k − (k − 1)(d − 1))/s⌋ + 1",
                "o = ⌊(7 + 2·0 − 3 − 2·1)/1⌋ + 1 = 3",
            ],
        ),
        direct(
            16, "PyTorch's 'same' with an even kernel",
            "The guide pads every side equally. To keep 5×5 with a 4×4 kernel, padding='same' needs "
            "3 rows and 3 columns of zeros in all, which cannot be split evenly: PyTorch puts 1 "
            "before (top, left) and 2 after (bottom, right), padding the input itself, unevenly, "
            "before it convolves. So the bottom-right output's window holds only 2×2 = 4 input "
            "values, against 3×3 = 9 at the top left. 'same' needs stride 1.",
            i=5, k=4, p="same", o=5, ask="Which output's window holds the fewest input values, and how many?",
            formula=[
                "total padding = d·(k − 1) = 1·(4 − 1) = 3",
                "before = ⌊3/2⌋ = 1, after = 3 − 1 = 2",
                "o = (i + before + after − k) + 1 = (5 + 1 + 2 − 4) + 1 = 5",
            ],
        ),
    ]
    return lesson(
        "Convolution arithmetic",
        "The 15 relationships of Dumoulin and Visin's guide to convolution arithmetic with its "
        "figures' numbers, each checked against PyTorch, and PyTorch's 'same' with an even kernel.",
        steps,
    )


# -- From the tutorials ------------------------------------------------------------------------

X_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
MULTI_IN_KERNEL = [
    [[0, 1, 0], [0, 0, 2], [0, 1, 0]],
    [[2, 1, 0], [0, 0, 0], [0, 3, 0]],
    [[1, 0, 0], [1, 0, 0], [0, 0, 2]],
]
ONE_BY_ONE_KERNEL = [[[[1]], [[2]], [[3]]], [[[4]], [[1]], [[1]]], [[[5]], [[3]], [[3]]]]
VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
HORIZONTAL_EDGE = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]
SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
SOBEL_Y = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
LAPLACIAN = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
TENS_ACROSS = np.repeat(np.array([10.0, 10.0, 10.0, 0.0, 0.0, 0.0])[:, None], 6, axis=1)[None]
# The input's channels hold 1, 2, ... 6 everywhere: with weights of 1 each output is the sum
# of the values its group sees, so the grouping can be read off the output.
GROUPS_INPUT = np.broadcast_to(np.arange(1.0, 7.0)[:, None, None], (6, 4, 4)).copy()
# The tutorial compares 64 filters on a 224×224×3 image with a fully connected layer.
FC_INPUT = (3, 224, 224)
FC_OUT = 64


def _groups_step(groups: int) -> dict:
    per_group = 6 // groups
    sums = [sum(range(g * per_group + 1, (g + 1) * per_group + 1)) for g in range(groups)]
    output = np.repeat(np.array(sums, dtype=np.float64), 12 // groups)[:, None, None] * np.ones((12, 4, 4))
    if groups == 1:
        caption = (
            "groups = 1: each of the 12 filters sees all 6 input channels, so the weight is "
            "12 × 6 × 1 × 1. The six input channels hold 1, 2, …, 6 everywhere and every weight is 1, "
            "so every output channel is 1 + 2 + … + 6 = 21."
        )
    elif groups == 2:
        caption = (
            "groups = 2: the channels split into 2 groups of 3 that never meet. The first 6 filters "
            "see only the channels holding 1, 2 and 3 (sum 6), the last 6 those holding 4, 5 and 6 "
            "(sum 15); each filter has half the weights: 12 × 3 × 1 × 1."
        )
    else:
        caption = (
            "groups = 3: 3 groups of 2 input channels with 4 filters each; the outputs are 1 + 2 = 3, "
            "3 + 4 = 7 and 5 + 6 = 11, and the weight is 12 × 2 × 1 × 1."
        )
    return step(
        f"Weight shape with groups = {groups}", caption,
        state(inline(GROUPS_INPUT), spec(in_channels=6, out_channels=12, kernel_size=1, groups=groups),
              np.ones((12, 6 // groups, 1, 1)), kernel_name="Ones", view=EXPLORE),
        formula=[
            "weight shape = (out, in/groups, kh, kw)",
            f"= (12, 6/{groups}, 1, 1) = (12, {6 // groups}, 1, 1)",
            "o = (4 − 1) + 1 = 4",
        ],
        output_shape=[12, 4, 4], output=output,
    )


def _max_pooling_step() -> dict:
    """The 4×4 max-pooled to 2×2.  The step's convolution (a 2×2 kernel of ¼ with stride 2)
    reads the same four windows and averages them; the pooling view shows the maxima."""
    return step(
        "Max pooling a 4×4 to 2×2",
        "Max pooling keeps the largest value of each window. nn.MaxPool2d(2) has a 2×2 window and "
        "PyTorch's default stride, the kernel size, so the windows do not overlap: the 4×4 splits "
        "into four 2×2 windows, and their maxima 8, 6, 9 and 9 are the 2×2 output. The output "
        "size follows the convolution's rule. When the network learns, only each window's winning "
        "cell passes the gradient back.",
        state({"sample": "tutorial_pool"}, spec(kernel_size=2, stride=2), np.full((1, 1, 2, 2), 0.25),
              kernel_name="Mean 2×2", view={"workspace": "pooling"}),
        formula=["o = ⌊(i + 2p − k)/s⌋ + 1", "o = ⌊(4 + 2·0 − 2)/2⌋ + 1 = 2"],
        ask="What are the maxima of the four 2×2 windows?",
        output_shape=[1, 2, 2], output=[[8, 6], [9, 9]],
        pooling={"kind": "max", "kernel_size": 2},
    )


def tutorials() -> dict:
    blank = {"blank": list(FC_INPUT)}
    conv_weights = 3 * 3 * 3 * FC_OUT
    fc_weights = FC_INPUT[0] * FC_INPUT[1] * FC_INPUT[2] * FC_OUT
    steps = [
        step(
            "The 5×5 X and the X-shaped kernel",
            "The 3×3 X-shaped kernel adds up the centre and the four corners of every 3×3 window of "
            "the 5×5 X. PyTorch gives the tutorial's result, [[4, 3, 4], [2, 4, 3], [2, 3, 4]]: "
            "4 where the window holds the whole X.",
            state({"sample": "tutorial_x"}, spec(kernel_size=3), [[X_KERNEL]], kernel_name="X-shaped"),
            formula=["o = (i − k) + 1", "o = (5 − 3) + 1 = 3"],
            ask="What is the first output value?", hide=HIDE_ANSWER,
            output_shape=[1, 3, 3], output=[[4, 3, 4], [2, 4, 3], [2, 3, 4]],
        ),
        step(
            "Three input channels",
            "A 3×5×5 input needs a 3×3×3 kernel, one 3×3 slice per channel. Each slice slides over "
            "its own channel and the three results add up into one output channel: "
            "[[19, 13, 15], [28, 16, 20], [23, 18, 25]].",
            state({"sample": "tutorial_multi_in"}, spec(in_channels=3, kernel_size=3), [MULTI_IN_KERNEL],
                  kernel_name="Three channels"),
            formula=["weight shape (out, in, kh, kw) = (1, 3, 3, 3)", "o = (5 − 3) + 1 = 3"],
            output_shape=[1, 3, 3], output=[[19, 13, 15], [28, 16, 20], [23, 18, 25]],
        ),
        step(
            "A 1×1 kernel over 3 channels",
            "A 1×1 kernel looks at one pixel at a time, through all the channels: each of the 3 "
            "output channels is a weighted sum of the 3 input channels at the same pixel, with the "
            "weights (1, 2, 3), (4, 1, 1) and (5, 3, 3). The size stays 3×3; only the channels mix. "
            "Networks use it to change the number of channels.",
            state({"sample": "tutorial_1x1"}, spec(in_channels=3, out_channels=3, kernel_size=1),
                  ONE_BY_ONE_KERNEL, kernel_name="1×1"),
            formula=["weight shape (out, in, kh, kw) = (3, 3, 1, 1)", "o = (3 − 1) + 1 = 3"],
            output_shape=[3, 3, 3],
            output=[
                [[9, 10, 11], [12, 13, 14], [15, 16, 17]],
                [[7, 11, 15], [19, 23, 27], [31, 35, 39]],
                [[14, 19, 24], [29, 34, 39], [44, 49, 54]],
            ],
        ),
        step(
            "Vertical edges",
            "10s on the left, 0s on the right. The vertical-edge kernel (1s in its left column, "
            "−1s in its right) gives 0 where the window is flat and 30 where it straddles the edge: "
            "[0, 30, 30, 0] in every row, the target from which the tutorial learns this kernel by "
            "gradient descent.",
            state({"sample": "tutorial_tens"}, spec(kernel_size=3), [[VERTICAL_EDGE]], kernel_name="Vertical edges"),
            formula=["o = (6 − 3) + 1 = 4"],
            ask="Where will the output be large?",
            output_shape=[1, 4, 4], output=[[0, 30, 30, 0]] * 4,
        ),
        step(
            "Horizontal edges: none here",
            "The same 6×6 input with the horizontal-edge kernel: in every window the top row equals "
            "the bottom row, they cancel, and the output is 0 everywhere. This image has no "
            "horizontal edge.",
            state({"sample": "tutorial_tens"}, spec(kernel_size=3), [[HORIZONTAL_EDGE]],
                  kernel_name="Horizontal edges"),
            formula=["o = (6 − 3) + 1 = 4"],
            output_shape=[1, 4, 4], output=[[0, 0, 0, 0]] * 4,
        ),
        step(
            "Horizontal edges",
            "Turned a quarter, the 6×6 has 10s on top and 0s below, and the horizontal-edge kernel "
            "gives 30 along the edge.",
            state(inline(TENS_ACROSS), spec(kernel_size=3), [[HORIZONTAL_EDGE]], kernel_name="Horizontal edges"),
            formula=["o = (6 − 3) + 1 = 4"],
            output_shape=[1, 4, 4], output=[[0, 0, 0, 0], [30, 30, 30, 30], [30, 30, 30, 30], [0, 0, 0, 0]],
        ),
        _groups_step(1),
        _groups_step(2),
        _groups_step(3),
        step(
            "224 → 224: kernel 3, stride 1, padding 1",
            "The tutorial's first layer on a 224×224 RGB image: a 3×3 kernel with padding 1 and "
            "stride 1 keeps 224×224. Sharing the kernel over the image is what saves parameters: "
            f"{FC_OUT} such filters have {conv_weights:,} weights, where a fully connected layer from "
            f"the same image to {FC_OUT} outputs needs {fc_weights:,}, about "
            f"{round(fc_weights / conv_weights, -2):,.0f} times as many. The blank input stands for the "
            "resized photo (only the sizes matter here), and the layer shown has one filter of the 64.",
            state(blank, spec(in_channels=3, kernel_size=3, padding=1), per_channel(SOBEL_X, 1, 3),
                  kernel_name="Sobel x", view=EXPLORE),
            formula=[
                "o = ⌊(i + 2p − d(k − 1) − 1)/s⌋ + 1",
                "o = ⌊(224 + 2·1 − 1·(3 − 1) − 1)/1⌋ + 1 = 224",
                (f"convolution, {FC_OUT} filters: 3×3×3×{FC_OUT} = {conv_weights:,} weights "
                f"(+ {FC_OUT} biases = {conv_weights + FC_OUT:,})"),
                (f"fully connected, {FC_OUT} outputs: 224×224×3×{FC_OUT} = {fc_weights:,} weights "
                f"(+ {FC_OUT} biases = {fc_weights + FC_OUT:,})"),
            ],
            output_shape=[1, 224, 224],
        ),
        step(
            "224 → 112: kernel 5, stride 2, padding 2",
            "The tutorial's second layer halves the size: a 5×5 kernel with padding 2 and stride 2. "
            "The division leaves a half, and the floor drops it: 224 → 112.",
            state(blank, spec(in_channels=3, kernel_size=5, stride=2, padding=2),
                  per_channel(np.full((5, 5), 1 / 75), 1, 3), kernel_name="Box blur 5×5", view=EXPLORE),
            formula=[
                "o = ⌊(i + 2p − d(k − 1) − 1)/s⌋ + 1",
                "o = ⌊(224 + 2·2 − 1·(5 − 1) − 1)/2⌋ + 1 = 112",
            ],
            output_shape=[1, 112, 112],
        ),
        step(
            "28 → 28: kernel 3, padding 1",
            "A 28×28 input, the size of an MNIST digit, with a 3×3 kernel and padding 1 stays "
            "28×28. The tutorial's layer has 64 such filters and gives 64×28×28; one is shown.",
            state({"sample": "disk", "working_size": 28}, spec(kernel_size=3, padding=1), [[LAPLACIAN]],
                  kernel_name="Laplacian (4-neighbour)"),
            formula=["o = ⌊(28 + 2·1 − 1·(3 − 1) − 1)/1⌋ + 1 = 28"],
            output_shape=[1, 28, 28],
        ),
        step(
            "28 → ?: kernel 3, no padding",
            "Without padding the 3×3 kernel fits 28 − 3 + 1 = 26 times across: 26×26, one pixel "
            "lost on every side. The values inside are those of the padded case.",
            state({"sample": "disk", "working_size": 28}, spec(kernel_size=3, padding=0), [[LAPLACIAN]],
                  kernel_name="Laplacian (4-neighbour)"),
            formula=["o = ⌊(28 + 2·0 − 1·(3 − 1) − 1)/1⌋ + 1 = 26"],
            ask=ASK_SIZE, hide=HIDE_ANSWER,
            output_shape=[1, 26, 26],
        ),
        _max_pooling_step(),
    ]
    return lesson(
        "From the tutorials",
        "Worked examples, each checked against PyTorch: the 5×5 X with the X-shaped kernel, three "
        "input channels, a 1×1 kernel, edge kernels, weight shapes with groups, the output sizes "
        "of 224×224 and 28×28 inputs, and a 4×4 max-pooled to 2×2.",
        steps,
    )


# -- Edge detectors by hand -------------------------------------------------------------------


# A projector washes out faint greys.  A photo kept a photo shows as one (grey, 0..1); an
# edge response as |x| on the same grey scale: flat areas black, edges white, the rare
# strongest edges clipped rather than squeezing every other edge into the dark end (a
# diverging or sequential map is scaled to the largest value, a few pixels' worth).
AS_PHOTO = {"channel": 0, "mode": "raw", "mapping": "image_clip"}
AS_EDGES = {"channel": 0, "mode": "abs", "mapping": "image_clip"}


def edges() -> dict:
    camera = {"sample": "camera", "working_size": 256}

    def edge_step(title: str, caption: str, kernel, name: str, formula, output: dict) -> dict:
        return step(
            title, caption,
            state(camera, spec(kernel_size=3), [[kernel]], kernel_name=name, view={**EXPLORE, "output": output}),
            formula=formula, output_shape=[1, 254, 254],
        )

    steps = [
        edge_step(
            "Identity",
            "1 at the centre and 0 elsewhere: every output pixel copies the input pixel under the "
            "kernel's centre, and the photo comes back unchanged, one pixel smaller on every side "
            "without padding. The picture to compare the others with.",
            [[0, 0, 0], [0, 1, 0], [0, 0, 0]], "Identity",
            ["weights sum to 1: flat areas keep their value", "o = (256 − 3) + 1 = 254"], AS_PHOTO,
        ),
        edge_step(
            "Box blur",
            "Every weight is 1/9, so each output pixel is the mean of its 3×3 neighbourhood: fine "
            "detail, grain and sharp edges are smoothed. The weights sum to 1, so flat areas keep "
            "their brightness.",
            np.full((3, 3), 1 / 9), "Box blur 3×3",
            ["weights sum to 1: flat areas keep their value"], AS_PHOTO,
        ),
        edge_step(
            "Sobel x",
            "−1, −2, −1 in the left column and 1, 2, 1 in the right: positive where the photo gets "
            "brighter to the right, negative where it gets darker, 0 where it is flat. It finds "
            "vertical edges; horizontal ones vanish. The middle row counts twice, which smooths "
            "along the edge. The output shows |x|, so an edge is white whichever way it goes and "
            "flat areas are black; raw x with the diverging colours shows the sign.",
            SOBEL_X, "Sobel x",
            ["weights sum to 0: flat areas give 0"], AS_EDGES,
        ),
        edge_step(
            "Sobel y",
            "Sobel x turned a quarter: positive where the photo gets brighter downwards. It finds "
            "horizontal edges, and the vertical ones fade. Shown as |x| again: edges white, flat "
            "areas black.",
            SOBEL_Y, "Sobel y",
            ["weights sum to 0: flat areas give 0"], AS_EDGES,
        ),
        edge_step(
            "Laplacian",
            "−4 at the centre, 1 on its four neighbours: the second derivative. It is 0 on flat "
            "areas and on smooth ramps, and large on both sides of a sharp edge or a thin line, in "
            "every direction at once: an outline of the photo, with its grain amplified. Shown as "
            "|x|, on the same grey scale as the Sobel steps: its responses are weaker than theirs.",
            LAPLACIAN, "Laplacian (4-neighbour)",
            ["weights sum to 0: flat areas and even ramps give 0"], AS_EDGES,
        ),
    ]
    return lesson(
        "Edge detectors by hand",
        "Classic hand-made kernels on the camera photo: identity, box blur, Sobel x and y, Laplacian.",
        steps,
    )


# -- Convolution as a matrix -------------------------------------------------------------------

MATRIX_KERNEL = [[[[0, 1, 2], [2, 2, 0], [0, 1, 2]]]]
MATRIX_INPUT = [[[3, 3, 2, 1], [0, 0, 1, 3], [3, 1, 2, 2], [2, 0, 0, 2]]]
MATRIX_VIEW = {"workspace": "matrix", "animation_step": 1}
MATRIX_KERNEL_NAME = "Matrix example (3×3)"


def matrix() -> dict:
    def matrix_step(title, caption, input_, conv, *, formula, output_shape, output=None, ask="", view=None):
        return step(title, caption,
                    state(inline(input_), conv, MATRIX_KERNEL, kernel_name=MATRIX_KERNEL_NAME, view=view or MATRIX_VIEW),
                    formula=formula, ask=ask, hide=HIDE_ANSWER if ask else (), output_shape=output_shape,
                    output=output)

    steps = [
        matrix_step(
            "1 · y = C·x",
            "Every output value is a weighted sum of input values, so the whole convolution is one "
            "matrix. Unroll the 4×4 input row by row into a column x of 16 values: C has one row per "
            "output value and one column per input pixel, and each row holds the 9 weights in the "
            "columns of the pixels its window covers, zeros elsewhere. The first row is w₀₀ w₀₁ w₀₂ 0 "
            "w₁₀ w₁₁ w₁₂ 0 w₂₀ w₂₁ w₂₂ 0 0 0 0 0; step through the outputs to see the rows slide.",
            MATRIX_INPUT, spec(kernel_size=3), ask="How many rows and columns has C?",
            formula=["C: 4 rows (outputs) × 16 columns (inputs)", "o = (4 − 3) + 1 = 2"],
            output_shape=[1, 2, 2], output=[[12, 12], [10, 17]],
        ),
        matrix_step(
            "2 · Zero padding adds no columns",
            "With padding 1 the output is 4×4, so C is 16×16, but it still has only the 16 input "
            "pixels as columns: a tap that lands on the zero padding multiplies 0 and leaves no entry. "
            "The corner outputs' rows hold only 4 of the 9 weights.",
            MATRIX_INPUT, spec(kernel_size=3, padding=1),
            formula=["C: 16 × 16", "o = (4 − 3) + 2·1 + 1 = 4"], output_shape=[1, 4, 4],
        ),
        matrix_step(
            "3 · Stride keeps every s-th row",
            "Stride 2 computes only every second output of step 2 across and down: C keeps the rows "
            "of outputs (0, 0), (0, 2), (2, 0) and (2, 2), and is 4×16 again.",
            MATRIX_INPUT, spec(kernel_size=3, stride=2, padding=1),
            formula=["C: 4 × 16", "o = ⌊(4 + 2·1 − 3)/2⌋ + 1 = 2"], output_shape=[1, 2, 2],
            output=[[6, 17], [8, 17]],
        ),
        matrix_step(
            "4 · im2col: the product libraries compute",
            "For a 12×12 input C would be 100×144 and almost all zeros. Libraries unroll each "
            "window into a column instead: the patch matrix (9 rows, one column per output "
            "position) times the weight matrix (one row per output channel) gives every output at "
            "once. The highlighted column is the current window.",
            ramp(12), spec(kernel_size=3),
            formula=["patch matrix: 9 × 100, weight matrix: 1 × 9", "o = (12 − 3) + 1 = 10"],
            output_shape=[1, 10, 10],
        ),
        matrix_step(
            "5 · The transposed convolution is Cᵀ",
            "Take step 1's 2×2 output back with a transposed convolution of the same kernel: its "
            "matrix is Cᵀ, 16×4, the transpose of step 1's C. Each input value goes back to the 9 "
            "pixels it came from, through the same weights. That gives back the shape, not the "
            "values: Cᵀ is not the inverse of C.",
            [[[12, 12], [10, 17]]], spec(kernel_size=3, transposed=True),
            formula=["Cᵀ: 16 × 4", "o′ = s(i′ − 1) + k − 2p = 1·(2 − 1) + 3 − 2·0 = 4"],
            output_shape=[1, 4, 4], output=[[0, 12, 36, 24], [24, 58, 61, 34], [20, 66, 70, 24], [0, 10, 37, 34]],
        ),
        matrix_step(
            "6 · One transposed convolution, four ways",
            "Kernel 3, stride 2, padding 1 and output padding 1 take a 3×3 input to 6×6, computed "
            "four ways that must agree: each input pixel scattering value × kernel; each output cell "
            "gathering from the pixels that reach it; the input stretched with a zero between its "
            "pixels to 5×5, padded by p′ = 1 and one more row and column (a), convolved at stride 1 "
            "with the kernel turned by 180°; and y = Cᵀx.",
            ramp(3), spec(kernel_size=3, stride=2, padding=1, transposed=True, output_padding=1),
            formula=["ĩ′ = (i′ − 1)·s + 1 = (3 − 1)·2 + 1 = 5", "p′ = (k − 1) − p = (3 − 1) − 1 = 1", "a = 1",
                     "o′ = ĩ′ + 2p′ + a − (k − 1) = 5 + 2·1 + 1 − 2 = 6"],
            output_shape=[1, 6, 6], view={"workspace": "transposed", "animation_step": 1},
        ),
    ]
    return lesson(
        "Convolution as a matrix",
        "The convolution as one sparse matrix C with y = C·x, padding and stride in C, the im2col "
        "product libraries compute, and the transposed convolution as Cᵀ and three other ways.",
        steps,
    )


# -- writing ------------------------------------------------------------------------------------

LESSONS = {"arithmetic": arithmetic, "tutorials": tutorials, "edges": edges, "matrix": matrix}


def build() -> dict[str, dict]:
    """Every lesson as its document (a plain dict in the file format), by id."""
    return {lesson_id: make() for lesson_id, make in LESSONS.items()}


def text_of(document: dict) -> str:
    """The file text of one document: read as any session file is (so a mistake here is
    refused as it would be in the app) and written back in the format's own form."""
    import json

    from convplay.core.session_file import document_json, read_document

    doc, warnings = read_document(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    if warnings:
        raise ValueError(f"{document['title']}: " + "; ".join(warnings))
    return document_json(doc)


def texts() -> dict[str, str]:
    """Every lesson's file text, by id, exactly as it is written."""
    return {lesson_id: text_of(document) for lesson_id, document in build().items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file differs from what this builds")
    args = parser.parse_args(argv)
    stale = []
    for lesson_id, text in texts().items():
        path = LESSONS_DIR / f"{lesson_id}.json"
        data = text.encode("utf-8")
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(path.name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("out of date: " + ", ".join(stale) + " (run python tools/make_lessons.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
