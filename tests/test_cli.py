"""The command line: parsing, and a --help that imports neither Qt nor torch."""

import subprocess
import sys

import pytest

from convplay.cli import padding_arg, parse_args


def test_defaults_leave_everything_to_the_app():
    args = parse_args([])
    assert args.image is None and args.kernel is None and args.screenshot is None
    assert args.stride is None and args.padding is None and args.device is None


@pytest.mark.parametrize(
    "text, expected",
    [("1", 1), ("0", 0), ("1,2", (1, 2)), (" 2 , 3 ", (2, 3)), ("same", "same"), ("VALID", "valid")],
)
def test_padding_forms(text, expected):
    assert padding_arg(text) == expected


def test_every_option_parses():
    args = parse_args(
        "img.png --kernel sobel_y --stride 2,1 --padding same --padding-mode reflect --dilation 2 "
        "--groups 1 --out-channels 4 --device cpu --dtype float64 --size 64 --screenshot out.png".split()
    )
    assert args.image == "img.png" and args.kernel == "sobel_y"
    assert args.stride == (2, 1) and args.padding == "same" and args.padding_mode == "reflect"
    assert args.dilation == 2 and args.groups == 1 and args.out_channels == 4
    assert args.device == "cpu" and args.dtype == "float64" and args.size == 64
    assert args.screenshot == "out.png"


@pytest.mark.parametrize(
    "argv",
    [["--stride", "0"], ["--stride", "a"], ["--padding", "1,2,3"], ["--padding", "-1"],
     ["--groups", "0"], ["--dtype", "int8"], ["--padding-mode", "mirror"], ["--dilation", "1,0"]],
)
def test_bad_values_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_help_is_instant_and_imports_no_qt_or_torch():
    code = (
        "import sys\n"
        "from convplay.__main__ import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "heavy = [m for m in ('torch', 'PySide6', 'pyqtgraph', 'numpy', 'superqt') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for option in ("--kernel", "--stride", "--padding", "--dilation", "--groups", "--device", "--screenshot"):
        assert option in result.stdout


def test_window_size_and_focus_options():
    from convplay.cli import parse_args

    args = parse_args(["--window-size", "1280x720", "--focus", "--step", "5", "--sample", "tutorial_x"])
    assert args.window_size == (1280, 720) and args.focus and args.step == 5 and args.sample == "tutorial_x"
    with pytest.raises(SystemExit):
        parse_args(["--window-size", "big"])


def test_the_preset_list_in_help_is_the_real_one():
    from convplay.cli import PRESET_KEYS
    from convplay.core.presets import preset_keys

    assert tuple(PRESET_KEYS) == tuple(preset_keys())


def test_the_working_size_range_in_help_is_cores():
    from convplay.cli import WORKING_SIZE_RANGE, build_parser
    from convplay.core.image_io import DEFAULT_WORKING_SIZE, MAX_WORKING_SIZE, MIN_WORKING_SIZE

    assert WORKING_SIZE_RANGE == (MIN_WORKING_SIZE, MAX_WORKING_SIZE)
    text = " ".join(build_parser().format_help().split())  # argparse wraps the help
    assert f"{MIN_WORKING_SIZE} to {MAX_WORKING_SIZE} px (default {DEFAULT_WORKING_SIZE})" in text


def test_workspace_names_come_from_the_table_and_are_in_help(capsys):
    from convplay.cli import build_parser
    from convplay.qt.workspaces import WORKSPACE_NAMES

    for name in WORKSPACE_NAMES:
        assert parse_args(["--workspace", name]).workspace == name
    assert parse_args([]).workspace is None  # the last one used, from the settings
    with pytest.raises(SystemExit) as info:
        parse_args(["--workspace", "lecture"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--workspace" in err and "explore" in err and "formula" in err
    text = " ".join(build_parser().format_help().split())
    assert "--workspace NAME" in text
    for name in WORKSPACE_NAMES:
        assert f"{name} (" in text  # each name with what it shows
