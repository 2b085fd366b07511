"""The command line: ``convplay [IMAGE] [options]``.

Only the standard library is imported here, so ``convplay --help`` answers at once;
Qt, numpy and torch load after the arguments have been parsed.
"""

from __future__ import annotations

import argparse
from typing import Union

# The workspace table imports nothing (no Qt): --help stays instant.
from convplay.qt.workspaces import WORKSPACES

Padding = Union[int, tuple[int, int], str]

DTYPES = ("float32", "float64", "float16", "bfloat16")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
# Kept here, not read from convplay.core.presets, so that --help imports nothing;
# a test checks the two lists agree.
PRESET_KEYS = (
    "identity", "box3", "box5", "gaussian3", "gaussian5", "sharpen", "sobel_x", "sobel_y", "scharr_x",
    "scharr_y", "prewitt_x", "prewitt_y", "laplacian4", "laplacian8", "log5", "emboss", "edge_vertical",
    "edge_horizontal", "x_shape", "matrix_example",
)
# core.kernel_recipe.help_text(), kept here for the same reason; a test checks they agree.
KERNEL_FAMILIES_HELP = (
    "gaussian: size=3 (1..15), sigma=0.5 (0.1..10); "
    "gaussian_dx: size=5 (2..15), sigma=1 (0.2..10); "
    "gaussian_dy: size=5 (2..15), sigma=1 (0.2..10); "
    "log: size=5 (1..15), sigma=0.5 (0.1..10); "
    "dog: size=5 (1..15), sigma1=0.8 (0.1..10), sigma2=1.6 (0.1..10); "
    "disk: radius=5 (0.5..7.5); "
    "motion: length=9 (1..15), angle=0 (-180..180); "
    "laplacian: alpha=0.2 (0..1); "
    "unsharp: alpha=0.2 (0..1); "
    "gabor: size=9 (1..15), theta=0 (-180..180), lambda=4 (2..30), sigma=2 (0.5..10), gamma=0.5 (0.05..4), psi=0 (-180..180); "
    "box: size=3 (1..15); "
    "sobel5_x; "
    "sobel5_y; "
    "sobel7_x; "
    "sobel7_y; "
    "sobel_pair: size=3 (3..7); "
    "scharr_pair; "
    "prewitt_pair; "
    "gaussian_pair: size=5 (2..15), sigma=1 (0.2..10)"
)
# core.builtin_stacks.BUILTIN_STACKS' keys, for the same reason; a test checks they agree.
BUILTIN_STACK_KEYS = ("digits", "cifar10", "mnist")
# core.gradients.VIEWS, for the same reason; a test checks they agree.
OUTPUT_VIEWS = ("channel", "magnitude", "l1", "orientation", "edges")
# core.image_io's MIN_WORKING_SIZE and MAX_WORKING_SIZE, for the help text only (start-up
# checks --size against core's own); a test checks they agree.
WORKING_SIZE_RANGE = (8, 2048)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def int_or_pair(text: str) -> Union[int, tuple[int, int]]:
    """'2' -> 2, '1,2' -> (1, 2): one value for both axes, or (height, width)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (1, 2):
        raise argparse.ArgumentTypeError(f"expected N or H,W, got {text!r}")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or H,W with whole numbers, got {text!r}") from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"values must not be negative, got {text!r}")
    return values[0] if len(values) == 1 else (values[0], values[1])


def _positive_int_or_pair(text: str) -> Union[int, tuple[int, int]]:
    value = int_or_pair(text)
    if min(value if isinstance(value, tuple) else (value,)) < 1:
        raise argparse.ArgumentTypeError(f"values must be at least 1, got {text!r}")
    return value


def _size_arg(text: str, low: tuple[int, int], high: int, example: str, what: str) -> tuple[int, int]:
    """'WxH' -> (W, H), each side from ``low`` to ``high`` pixels."""
    parts = text.lower().replace("\u00d7", "x").split("x")
    try:
        width, height = (int(v) for v in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as {example}, got {text!r}") from None
    if not (low[0] <= width <= high and low[1] <= height <= high):
        raise argparse.ArgumentTypeError(f"{what} from {low[0]}x{low[1]} to {high}x{high}, not {text!r}")
    return width, height


def window_size_arg(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720)."""
    return _size_arg(text, (320, 240), 8192, "1280x720", "a window")


def export_size_arg(text: str) -> tuple[int, int]:
    """'960x540' -> (960, 540): the frames of an --export, 64 to 4096 px a side."""
    return _size_arg(text, (64, 64), 4096, "960x540", "frames")


def padding_arg(text: str) -> Padding:
    """An int, a pair 'H,W', or one of PyTorch's words 'same' / 'valid'."""
    word = text.strip().lower()
    if word in ("same", "valid"):
        return word
    return int_or_pair(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convplay",
        description=(
            "A convolution playground: load or draw an image, edit a kernel and the "
            "nn.Conv2d settings, and see PyTorch's output live."
        ),
        epilog=(
            "Examples: convplay photo.png --kernel sobel_x --stride 2 --padding same; "
            "convplay --stack mnist --describe (the MNIST CNN traced layer by layer: its Linear layer "
            "expects 4608 inputs where the maps give 800, and the fix); "
            "convplay --stack \"nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2))\" "
            "--input-shape 3,32,32 --describe"
        ),
    )
    parser.add_argument(
        "image", nargs="?",
        help="an image file to open (PNG, JPEG, BMP, TIFF, WebP), or a saved session or lesson (.convplay)",
    )
    parser.add_argument(
        "--sample",
        metavar="NAME",
        help="open a built-in sample instead of a file: camera, chelsea, brick, checkerboard, "
        "vertical_edge, horizontal_edge, disk, stripes, noise, tutorial_x, tutorial_multi_in, "
        "tutorial_1x1, tutorial_tens, tutorial_pool, tutorial_pool5, matrix_4x4",
    )
    parser.add_argument(
        "--input-shape", type=_shape_arg, metavar="C,H,W",
        help="a blank input (zeros) of this shape instead of an image or sample: 1 to 64 channels, "
        "1 to 2048 px a side, at most 3x2048x2048 values; with --stack, the shape of the stack's input "
        "instead (default: the built-in model's own, else the image's or sample's channels and size)",
    )
    conv = parser.add_argument_group("convolution (named as in nn.Conv2d)")
    conv.add_argument(
        "--kernel", metavar="PRESET|NAME[:p=v,...]",
        help="a kernel preset: " + ", ".join(PRESET_KEYS) + " (default sobel_x); or a kernel made from "
        "parameters, e.g. gaussian:size=5,sigma=1.2 or gabor:theta=45,lambda=6 (size may be HxW; "
        "normalise=sum|zero_mean|none; angles in degrees, anticlockwise from +x). The families, with "
        "their defaults and ranges: " + KERNEL_FAMILIES_HELP,
    )
    conv.add_argument(
        "--kernel-file",
        metavar="PATH[:NAME][:INDEX]",
        help="load the kernel from a .pth/.pt, .safetensors, .npy/.npz, ImageJ or CSV file; "
        "NAME picks a tensor (e.g. conv1.weight), INDEX one filter of it",
    )
    conv.add_argument(
        "--kernel-size", type=_positive_int_or_pair, metavar="N|H,W",
        help="the kernel's size, 1 to 15 a side; the chosen kernel is cropped or grown with zeros "
        "around its centre, as the kernel panel does",
    )
    conv.add_argument("--stride", type=_positive_int_or_pair, metavar="N|H,W", help="stride (default 1)")
    conv.add_argument(
        "--padding", type=padding_arg, metavar="N|H,W|same|valid", help="padding (default 0)"
    )
    conv.add_argument("--padding-mode", choices=PADDING_MODES, help="how padding is filled (default zeros)")
    conv.add_argument("--dilation", type=_positive_int_or_pair, metavar="N|H,W", help="dilation (default 1)")
    conv.add_argument("--groups", type=_positive_int, metavar="N", help="groups (default 1)")
    conv.add_argument("--out-channels", type=_positive_int, metavar="N", help="number of output channels")
    conv.add_argument("--no-bias", action="store_true", help="bias=False")
    conv.add_argument("--transposed", action="store_true", help="nn.ConvTranspose2d instead of nn.Conv2d")
    conv.add_argument(
        "--output-padding", type=int_or_pair, metavar="N|H,W", help="output_padding of a transposed conv (default 0)"
    )
    conv.add_argument(
        "--true-convolution",
        action="store_true",
        help="flip the kernel (mathematical convolution; PyTorch itself computes cross-correlation)",
    )
    run = parser.add_argument_group("computation and display")
    run.add_argument("--device", metavar="DEV", help="cpu (default) or cuda, cuda:0, ...")
    run.add_argument("--dtype", choices=DTYPES, help="tensor dtype (default float32)")
    low, high = WORKING_SIZE_RANGE
    run.add_argument(
        "--size", type=_positive_int, metavar="PX",
        help=f"working size: the long side of the input, {low} to {high} px (default 256)",
    )
    run.add_argument(
        "--step",
        type=_positive_int,
        metavar="N",
        help="show the sliding-window animation at step N (1-based) instead of the output",
    )
    run.add_argument(
        "--focus",
        action="store_true",
        help="lecture view: show only the sliding-window animation (View > Focus on the sliding window)",
    )
    run.add_argument(
        "--workspace",
        choices=[w.name for w in WORKSPACES],
        metavar="NAME",
        help="the panels' arrangement to open in (View menu; default: the last one used): "
        + "; ".join(f"{w.name} ({w.label})" for w in WORKSPACES),
    )
    run.add_argument(
        "--output-view",
        choices=OUTPUT_VIEWS,
        metavar="VIEW",
        help="what the output panel shows of a two-channel output read as a gradient pair (x, y), "
        "e.g. --kernel sobel_pair: " + ", ".join(OUTPUT_VIEWS) + " (channel: PyTorch's channels; the others "
        "are derived from them)",
    )
    run.add_argument(
        "--window-size",
        type=window_size_arg,
        metavar="WxH",
        help="window size in pixels, e.g. 1280x720 (a screenshot defaults to 1600x1000)",
    )
    run.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="build the window offscreen, wait for PyTorch's output, save the window as a PNG and exit",
    )
    lessons = parser.add_argument_group("sessions and lessons")
    lessons.add_argument(
        "--save-session", metavar="OUT.convplay",
        help="write what the other options set up as a session file and exit, without a window",
    )
    lessons.add_argument("--lesson", metavar="ID", help="open a built-in lesson (see --list-lessons)")
    lessons.add_argument(
        "--lesson-step", type=_positive_int, metavar="N", help="the lesson's step to open at (1-based; default 1)"
    )
    lessons.add_argument(
        "--list-lessons", action="store_true", help="print the built-in lessons (id, title, steps), one a line, and exit"
    )
    stacks = parser.add_argument_group("layer stack (the Network workspace; with --describe, no window)")
    stacks.add_argument(
        "--stack", metavar="CODE|MODEL",
        help="a layer stack: nn.Sequential(...) text, a module's code (self.name = nn.X(...) lines and its "
        "forward), the text print(model) shows, or a built-in model: " + ", ".join(BUILTIN_STACK_KEYS)
        + " (the trained digits CNN on 1x8x8, a CIFAR-10 CNN on 3x32x32, an MNIST CNN on 1x28x28 with a "
        "wrong Linear size). Read as text only, never run; opens the Network workspace with it",
    )
    stacks.add_argument(
        "--stack-file", metavar="FILE.py",
        help="read the layer stack from a file of model code or print(model) text (at most 200 KB; "
        "read as text, never imported or run)",
    )
    out = parser.add_argument_group("export and description (no window)")
    out.add_argument(
        "--export", metavar="OUT.gif|.webp|.mp4",
        help="render the sliding-window animation to a GIF, animated WebP or MP4 (MP4 needs convplay[video]) and exit",
    )
    out.add_argument(
        "--steps", type=_step_range_arg, metavar="A:B",
        help="the animation steps to export, 1-based and inclusive (default: all)",
    )
    out.add_argument("--fps", type=_positive_int, metavar="N", help="frames per second of the export (default 10)")
    out.add_argument(
        "--frames-per-step", type=_positive_int, metavar="N", help="frames each step is shown for in the export (default 1)"
    )
    out.add_argument(
        "--export-size", type=export_size_arg, default=(960, 540), metavar="WxH",
        help="the size of the exported frames in pixels (default 960x540)",
    )
    out.add_argument(
        "--no-arithmetic", action="store_true", help="leave the arithmetic panel out of the exported frames"
    )
    out.add_argument(
        "--describe", action="store_true",
        help="print the setup as one JSON object (shapes, spec, formula, parameters, MACs, receptive field) and exit; "
        "the spec's kernel_size, stride, padding, dilation and output_padding as N when both axes agree, else [H, W]; "
        "one object for a session file too (with its title), a list, one object a step, for a lesson; "
        "an impossible setup adds \"error\" and \"field\" and exits 2; with --stack, every layer's shapes, "
        "parameters, MACs, receptive field and jump, checked by running it in PyTorch, and \"error\" naming "
        "the first layer that does not fit with the fix (exit 2)",
    )
    return parser


def _shape_arg(text: str) -> tuple[int, int, int]:
    """'3,32,32' -> (3, 32, 32)."""
    parts = [p.strip() for p in text.replace("x", ",").replace("\u00d7", ",").split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected C,H,W with whole numbers, got {text!r}") from None
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"expected three numbers C,H,W, got {text!r}")
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"every size must be at least 1, got {text!r}")
    return values


def _step_range_arg(text: str) -> tuple[int | None, int | None]:
    """'3:9' -> (3, 9); '5' -> (5, 5); ':9' and '3:' leave an end open (1-based, inclusive)."""
    first, sep, last = text.partition(":")
    try:
        a = int(first) if first.strip() else None
        b = (int(last) if last.strip() else None) if sep else a
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A:B with whole numbers, got {text!r}") from None
    if (a is not None and a < 1) or (b is not None and b < 1):
        raise argparse.ArgumentTypeError(f"steps count from 1, got {text!r}")
    if a is not None and b is not None and b < a:
        raise argparse.ArgumentTypeError(f"the range ends before it starts: {text!r}")
    return a, b


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)
