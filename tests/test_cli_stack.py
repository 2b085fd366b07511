"""``--stack`` and ``--stack-file`` on the command line: the description's JSON for the
built-in models and for a file of the CIFAR-10 tutorial's model code, exit 2 with the
failing layer's sentence on stderr, parse errors with their line, hostile text refused
with nothing run, and a window opened on the Network workspace with the stack loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from model_code import CIFAR10

from convplay import cli, startup
from convplay.__main__ import main
from convplay.core.builtin_stacks import BUILTIN_STACKS

ROOT = Path(__file__).resolve().parents[1]
MNIST_ERROR = "fc (Linear): Linear expects 4608 inputs, the stack gives 32×5×5 = 800: use nn.Linear(800, 10)"

def describe(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--describe"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_the_built_in_keys_are_the_core_s():
    assert set(cli.BUILTIN_STACK_KEYS) == set(BUILTIN_STACKS)


def test_help_lists_the_stack_options_with_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--stack CODE|MODEL" in text and "--stack-file FILE.py" in text
    assert "convplay --stack mnist --describe" in text
    assert "digits, cifar10, mnist" in text


def test_the_mnist_cnn_is_described_and_refused_at_its_linear_layer(capsys):
    code, d, err = describe(capsys, "--stack", "mnist")
    assert code == 2
    assert err.strip().splitlines() == [f"convplay: {MNIST_ERROR}"]
    assert d["input_shape"] == [1, 28, 28] and d["output_shape"] is None
    shapes = [row["output_shape"] for row in d["layers"]]
    assert shapes == [[16, 26, 26], [16, 26, 26], [16, 13, 13], [32, 11, 11], [32, 11, 11], [32, 5, 5], [800], None]
    assert d["error"]["name"] == "fc" and d["error"]["index"] == 7 and d["error"]["message"] == MNIST_ERROR
    assert d["error"]["fix"] == "use nn.Linear(800, 10)"
    assert [row["receptive_field"] for row in d["layers"]][:6] == [[3, 3], [3, 3], [4, 4], [8, 8], [8, 8], [10, 10]]
    assert d["layers"][5]["jump"] == [4, 4]
    for row in d["layers"]:
        assert {"name", "input_shape", "output_shape", "params", "macs", "receptive_field", "jump"} <= set(row)
    # torch stops at the same layer, in its own words
    assert d["checked_by_torch"] is True
    assert "4608x10" in d["torch_error"]
    assert any("batch of 144" in note and "25 rows" in note for note in d["notes"])


def test_the_digits_cnn_is_described(capsys):
    code, d, err = describe(capsys, "--stack", "digits")
    assert code == 0 and err == ""
    assert d["error"] is None and d["checked_by_torch"] is True
    assert d["input_shape"] == [1, 8, 8] and d["output_shape"] == [10]
    assert [row["output_shape"] for row in d["layers"]] == [[8, 8, 8], [8, 8, 8], [16, 8, 8], [16, 8, 8],
                                                            [16, 4, 4], [256], [10]]
    # conv1 1→8 3×3, conv2 8→16 3×3, fc 256→10
    assert d["total_params"] == (8 * 9 + 8) + (16 * 8 * 9 + 16) + (256 * 10 + 10)


def test_a_file_of_the_cifar10_tutorial_s_model_code(capsys, tmp_path):
    path = tmp_path / "cifar10_model.py"
    path.write_text(CIFAR10, encoding="utf-8")
    code, d, err = describe(capsys, "--stack-file", str(path), "--input-shape", "3,32,32")
    assert code == 0, err
    assert d["title"] == "CIFAR10Model" and d["checked_by_torch"] is True and d["error"] is None
    names = [row["name"] for row in d["layers"]]
    assert names == ["conv1", "act1", "drop1", "conv2", "act2", "pool2", "flat", "fc3", "act3", "drop3", "fc4"]
    assert d["layers"][5]["output_shape"] == [32, 16, 16] and d["layers"][6]["output_shape"] == [8192]
    assert d["layers"][5]["receptive_field"] == [6, 6]
    assert d["output_shape"] == [10]


def test_the_text_print_model_shows(capsys):
    import torch.nn as nn

    model = nn.Sequential(nn.Conv2d(3, 16, 5, stride=2), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(16, 4))
    code, d, err = describe(capsys, "--stack", str(model), "--input-shape", "3,32,32")
    assert code == 0, err
    assert [row["output_shape"] for row in d["layers"]] == [[16, 14, 14], [16, 14, 14], [16, 14, 14], [16, 1, 1],
                                                            [16], [4]]
    assert d["total_params"] == sum(p.numel() for p in model.parameters())
    assert d["checked_by_torch"] is True


def test_empty_text_is_refused(capsys):
    code, d, _ = describe(capsys, "--stack", "", "--input-shape", "1,8,8")
    assert code == 2 and d["field"] == "stack" and "empty" in d["error"]


def test_a_stack_needs_an_input_shape(capsys, tmp_path):
    text = "nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2))"
    code, d, err = describe(capsys, "--stack", text)
    assert code == 2 and d["field"] == "input_shape"
    assert "--input-shape C,H,W" in d["error"] and "--input-shape" in err
    code, d, _ = describe(capsys, "--stack", text, "--input-shape", "3,32,32")
    assert code == 0 and d["output_shape"] == [8, 15, 15]
    # an image or sample gives its channels and size: the gray checkerboard has one channel
    code, d, err = describe(capsys, "--stack", text, "--sample", "checkerboard", "--size", "64")
    assert code == 2 and d["input_shape"] == [1, 64, 64]
    assert "Conv2d expects 3 input channels, the stack gives 1: use nn.Conv2d(1, 8, 3)" in err
    code, d, _ = describe(capsys, "--stack", text.replace("Conv2d(3", "Conv2d(1"), "--sample", "checkerboard",
                          "--size", "64")
    assert code == 0 and d["output_shape"] == [8, 31, 31]


def test_a_built_in_model_keeps_its_own_input_shape_unless_told(capsys):
    code, d, _ = describe(capsys, "--stack", "cifar10", "--sample", "chelsea")
    assert code == 0 and d["input_shape"] == [3, 32, 32]
    code, d, err = describe(capsys, "--stack", "cifar10", "--input-shape", "3,64,64")
    assert code == 2 and d["error"]["name"] == "fc3" and "32×32×32 = 32768" in err


def test_a_parse_error_names_the_line(capsys, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import torch\nimport torch.nn as nn\nimport torch.optim as optim\n" + CIFAR10, encoding="utf-8")
    code, d, err = describe(capsys, "--stack-file", str(script), "--input-shape", "3,32,32")
    assert code == 2 and d["field"] == "stack_file"
    assert d["error"].startswith("--stack-file train.py: line 3: ") and d["line"] == 3
    code, d, err = describe(capsys, "--stack", "nn.Sequential(\n  nn.Conv2d(1, 8, 3),\n  nn.Foo(3),\n)")
    assert code == 2 and d["error"].startswith("--stack: line 3: ") and "nn.Foo" in err and d["line"] == 3


@pytest.mark.parametrize("hostile", [
    "__import__('os').system('touch {target}')",
    "import os; os.system('touch {target}')",
    "nn.Sequential(nn.Conv2d(1, 8, open('{target}', 'w').write('x')))",
    "nn.Sequential(nn.Conv2d(1, 8, 3).__class__.__init__.__globals__['os'].system('touch {target}'))",
])
def test_hostile_text_is_refused_and_nothing_runs(capsys, tmp_path, hostile):
    target = tmp_path / "x"
    code, d, err = describe(capsys, "--stack", hostile.format(target=target), "--input-shape", "1,8,8")
    assert code == 2 and d["field"] == "stack" and d["error"].startswith("--stack: line 1: ")
    assert not target.exists()


def test_the_brief_s_hostile_text_in_a_process_of_its_own(tmp_path):
    """As a user types it: exit 2, the reason with its line on stderr, /tmp/x not made."""
    target = Path("/tmp/x")
    existed = target.exists()
    done = subprocess.run(
        [sys.executable, "-m", "convplay", "--stack", "__import__('os').system('touch /tmp/x')", "--describe"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "line 1:" in done.stderr and "__import__" in done.stderr
    assert json.loads(done.stdout)["field"] == "stack"
    assert existed or not target.exists()


def test_stack_files_that_are_refused(capsys, tmp_path):
    code, d, _ = describe(capsys, "--stack-file", str(tmp_path / "missing.py"), "--input-shape", "1,8,8")
    assert code == 2 and d["field"] == "stack_file" and "missing.py" in d["error"]
    big = tmp_path / "big.py"
    big.write_text("# " + "x" * (201 * 1024) + "\n", encoding="utf-8")
    code, d, _ = describe(capsys, "--stack-file", str(big), "--input-shape", "1,8,8")
    assert code == 2 and "200 KB" in d["error"]
    binary = tmp_path / "weights.py"
    binary.write_bytes(b"\x80\x02\xff\xfe")
    code, d, _ = describe(capsys, "--stack-file", str(binary), "--input-shape", "1,8,8")
    assert code == 2 and "UTF-8" in d["error"]
    code, d, _ = describe(capsys, "--stack-file", str(tmp_path), "--input-shape", "1,8,8")
    assert code == 2 and "not a file" in d["error"]
    code, d, _ = describe(capsys, "--stack", "mnist", "--stack-file", str(big))
    assert code == 2 and "not both" in d["error"]


def test_the_stack_choice_without_a_window():
    args = cli.parse_args(["--stack", "digits"])
    choice = startup.stack_choice(args)
    assert choice.key == "digits" and choice.input_shape == (1, 8, 8) and len(choice.stack.layers) == 7
    assert startup.stack_choice(cli.parse_args([])) is None
    with pytest.raises(startup.StartupError, match="1 to 4096 channels"):
        startup.stack_choice(cli.parse_args(["--stack", "digits", "--input-shape", "5000,8,8"]))
    # --input-shape with a stack is the stack's: the playground keeps its image
    session, _ = startup.initial_session(cli.parse_args(["--stack", "digits", "--input-shape", "1,8,8",
                                                         "--sample", "checkerboard", "--size", "32"]))
    assert session.image.shape[1:] == (32, 32)


# -- the window -----------------------------------------------------------------------------

def _window(qtbot, tmp_path, monkeypatch, *argv: str):
    from convplay.qt import app

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    built = app.build(cli.parse_args([*argv, "--size", "32", "--window-size", "800x500"]))
    assert not isinstance(built, int)
    window = built[1]
    qtbot.addWidget(window)
    window.show()
    return window


def _close(qtbot, window) -> None:
    """Closed once the network's jobs are done (a window closed while its worker imports
    torch leaves the thread to finish after the test)."""
    qtbot.waitUntil(lambda: window.network_controller.is_settled, timeout=60_000)
    window.close()


def test_the_window_opens_the_network_workspace_on_the_stack(qtbot, tmp_path, monkeypatch):
    # (--screenshot itself runs in a process of its own below: its end quits the event loop)
    window = _window(qtbot, tmp_path, monkeypatch, "--stack", "mnist")
    assert window.workspace == "network"
    assert window.network.key == "mnist" and window.network.input_shape == (1, 28, 28)
    assert window.network.trace.error == MNIST_ERROR
    qtbot.waitUntil(lambda: window.network.run_is_fresh, timeout=60_000)
    assert window.network.run.failed == 7  # torch stops at the same layer
    _close(qtbot, window)


def test_the_digits_cnn_opens_on_a_test_digit(qtbot, tmp_path, monkeypatch):
    from convplay.core.builtin_stacks import digit_example

    window = _window(qtbot, tmp_path, monkeypatch, "--stack", "digits")
    assert window.workspace == "network" and window.network.key == "digits"
    assert window.session.image.shape == (1, 32, 32)
    assert window.session.image[0, ::4, ::4] == pytest.approx(digit_example(startup.START_DIGIT))
    assert window.undo_stack.count() == 0  # where the window starts, not an edit to undo
    _close(qtbot, window)
    # an image or sample of the user's own stays
    window = _window(qtbot, tmp_path, monkeypatch, "--stack", "digits", "--sample", "checkerboard")
    own, _ = startup.initial_session(cli.parse_args(["--sample", "checkerboard", "--size", "32"]))
    assert window.session.image.shape == own.image.shape and (window.session.image == own.image).all()
    assert window.network.input_shape == (1, 8, 8)
    _close(qtbot, window)


def test_workspace_chooses_another_and_code_loads_as_a_stack(qtbot, tmp_path, monkeypatch):
    text = "nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 3))"
    window = _window(qtbot, tmp_path, monkeypatch, "--stack", text, "--input-shape", "1,8,8", "--workspace", "explore")
    assert window.workspace == "explore"
    assert window.network.key == "" and window.network.input_shape == (1, 8, 8)
    assert window.network.trace.output_shape == (3,) and len(window.network.stack.layers) == 4
    _close(qtbot, window)


def test_a_refused_stack_exits_2_before_any_window(tmp_path, capsys, monkeypatch):
    from convplay.qt import app

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    code = app.build(cli.parse_args(["--stack", "nn.Sequential(nn.Foo(1))", "--input-shape", "1,8,8"]))
    assert code == 2
    assert "--stack: line 1:" in capsys.readouterr().err


@pytest.mark.slow  # a process that imports Qt and torch and waits for the stack's run: 5 to 10 s
def test_a_screenshot_of_the_stack_view(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "-m", "convplay", "--stack", "digits", "--window-size", "640x400",
                           "--screenshot", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    from PIL import Image

    with Image.open(out) as image:
        assert image.size[0] >= 640 and image.size[1] >= 400  # the window's own minimum may be larger
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    colours = len(np.unique(pixels, axis=0))
    assert colours > 50  # the stack table, feature maps and scores drawn, not an empty window
    assert not (tmp_path / "config" / "convplay").exists()  # a screenshot leaves settings alone
    refused = subprocess.run([sys.executable, "-m", "convplay", "--stack", "nn.Sequential(nn.Foo(1))",
                              "--input-shape", "1,8,8", "--screenshot", str(tmp_path / "no.png")],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "--stack: line 1:" in refused.stderr
    assert not (tmp_path / "no.png").exists()
