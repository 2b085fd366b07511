"""Starting on a real desktop: a missing display or missing X libraries are a message and
exit 1 before Qt is asked (Qt itself aborts with exit 134 and a misleading line)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from convplay import platform_check
from convplay.platform_check import (
    WAYLAND,
    XCB,
    candidate_platforms,
    debian_package,
    display_problem,
    missing_libraries,
)

ROOT = Path(__file__).resolve().parents[1]

# What ldd printed for PySide6 6.11's libqxcb.so on a Debian 12 machine without
# libxcb-icccm4 and libxcb-keysyms1 (cut): each missing library is listed twice.
LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd4a1f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f1198714000)
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f1197b70000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f1197b5e000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f1197b56000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-randr.so.0 => /lib/x86_64-linux-gnu/libxcb-randr.so.0 (0x00007f1197b43000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f11987e4000)
"""
LDD_ALL_FOUND = "\n".join(line for line in LDD_MISSING.splitlines() if "not found" not in line) + "\n"


def fake_plugin(plugin, env):
    return Path(f"/venv/PySide6/Qt/plugins/platforms/{plugin.file}")


def check(env, ldd_output=LDD_MISSING, loads=lambda soname: True, platform="linux"):
    """display_problem with a fake ldd; also records which files ldd was asked about."""
    asked = []

    def run(args):
        asked.append(args[0])
        return ldd_output(args[0]) if callable(ldd_output) else ldd_output

    return display_problem(env, platform=platform, run=run, loads=loads, find_plugin=fake_plugin), asked


def test_missing_x_libraries_name_the_packages_in_one_apt_line():
    message, asked = check({"DISPLAY": ":0"})
    assert asked == ["/venv/PySide6/Qt/plugins/platforms/libqxcb.so"]  # one ldd, on the xcb plugin
    assert message.startswith("convplay: Qt cannot open a window on this display (DISPLAY=:0)")
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1." in message  # each once, in ldd's order
    apt = [line.strip() for line in message.splitlines() if "apt-get" in line]
    assert apt == ["sudo apt-get install libxcb-icccm4 libxcb-keysyms1"]
    assert "xcb-cursor0" not in message  # not Qt's misleading guess
    assert "--screenshot" in message


def test_a_working_desktop_is_not_stopped():
    assert check({"DISPLAY": ":0"}, LDD_ALL_FOUND) == (None, ["/venv/PySide6/Qt/plugins/platforms/libqxcb.so"])
    assert check({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, LDD_ALL_FOUND)[0] is None


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "vnc", "eglfs", "offscreen;xcb"])
def test_other_platform_plugins_are_left_to_qt(platform):
    # offscreen needs no display and none of these libraries: no check, no ldd
    assert check({"QT_QPA_PLATFORM": platform}) == (None, [])


def test_other_systems_are_left_to_qt():
    assert check({}, platform="darwin") == (None, [])
    assert check({}, platform="win32") == (None, [])


@pytest.mark.parametrize("env", [{}, {"QT_QPA_PLATFORM": "xcb"}, {"XDG_SESSION_TYPE": "wayland"}, {"DISPLAY": ""}])
def test_no_display_says_so_and_points_to_screenshot_and_offscreen(env):
    message, asked = check(env)
    assert asked == []  # nothing to connect to: no need to look at libraries
    assert message.startswith("convplay: there is no display to open a window on")
    assert "DISPLAY" in message and "WAYLAND_DISPLAY" in message
    assert "convplay --screenshot window.png" in message
    assert "QT_QPA_PLATFORM=offscreen" in message


def test_wayland_first_then_xcb_as_qt_tries_them():
    env = {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert candidate_platforms(env) == ["wayland", "xcb"]
    # Wayland's plugin loads: xcb's libraries do not matter.
    message, asked = check(env, lambda path: LDD_ALL_FOUND if "wayland" in path else LDD_MISSING)
    assert message is None and asked == ["/venv/PySide6/Qt/plugins/platforms/libqwayland.so"]
    # Wayland's plugin lacks a library but XWayland's xcb works: Qt falls back, so do we.
    wayland_missing = "\tlibwayland-cursor.so.0 => not found\n"
    message, asked = check(env, lambda path: wayland_missing if "wayland" in path else LDD_ALL_FOUND)
    assert message is None and len(asked) == 2
    # Both broken: one apt line for everything.
    message, _ = check(env, lambda path: wayland_missing if "wayland" in path else LDD_MISSING)
    assert "its wayland platform plugin" in message and "its xcb platform plugin" in message
    assert "sudo apt-get install libwayland-cursor0 libxcb-icccm4 libxcb-keysyms1" in message


def test_platform_list_and_options():
    assert candidate_platforms({"QT_QPA_PLATFORM": "xcb:nomitshm"}) == ["xcb"]
    assert candidate_platforms({"QT_QPA_PLATFORM": "wayland;xcb"}) == ["wayland", "xcb"]
    assert candidate_platforms({}) == ["xcb"]
    # XDG_SESSION_TYPE=wayland without a Wayland display: Qt goes to X11
    assert candidate_platforms({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}) == ["xcb"]


def test_without_ldd_each_known_library_is_loaded_instead():
    tried = []

    def loads(soname):
        tried.append(soname)
        return soname not in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")

    message, asked = check({"DISPLAY": ":1"}, ldd_output=None, loads=loads)
    assert asked and set(tried) == set(XCB.libraries)
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in message
    assert check({"DISPLAY": ":1"}, ldd_output=None)[0] is None  # all load: go on


def test_a_failing_check_lets_qt_decide():
    def broken(args):
        raise RuntimeError("the check itself is broken")

    assert display_problem({"DISPLAY": ":0"}, platform="linux", run=broken, find_plugin=fake_plugin) is None
    # A plugin file that cannot be found: Qt will say what it says.
    assert display_problem({"DISPLAY": ":0"}, platform="linux", find_plugin=lambda p, e: None) is None


def test_every_library_of_the_known_lists_has_its_debian_package():
    for soname in XCB.libraries + WAYLAND.libraries:
        assert soname in platform_check.DEBIAN_PACKAGES, soname
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    # Debian's naming rule for a library not in the table
    assert debian_package("libxcb-xv.so.0") == "libxcb-xv0"
    assert debian_package("libfoo2.so.3.1") == "libfoo2-3"


def test_the_real_plugin_and_the_real_ldd():
    """On this machine: the plugin is found inside PySide6, and ldd's answer parses."""
    path = platform_check.plugin_path(XCB, {})
    assert path is not None and path.name == "libqxcb.so" and "PySide6" in str(path)
    missing = missing_libraries(XCB, path)
    assert all(s.startswith("lib") and ".so" in s for s in missing)


def test_the_check_imports_no_qt():
    code = "import sys, convplay.platform_check as p; p.display_problem(); print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_convplay_without_a_display_exits_1_with_the_reason(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    done = subprocess.run(
        [sys.executable, "-m", "convplay", "--size", "32"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 1, (done.returncode, done.stderr)  # not Qt's abort (134)
    assert "there is no display to open a window on" in done.stderr
    assert "--screenshot" in done.stderr and "QT_QPA_PLATFORM=offscreen" in done.stderr
    assert "xcb-cursor0" not in done.stderr and "Aborted" not in done.stderr


def test_convplay_on_an_x_display_without_the_x_libraries(tmp_path):
    """End to end where this machine lacks some of the xcb plugin's libraries (as the CI
    machine does); elsewhere there is nothing to show."""
    path = platform_check.plugin_path(XCB, {})
    missing = missing_libraries(XCB, path)
    if not missing:
        pytest.skip("every library of the xcb plugin is installed here")
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(DISPLAY=":99", XDG_CONFIG_HOME=str(tmp_path / "config"))
    done = subprocess.run(
        [sys.executable, "-m", "convplay", "--size", "32"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 1, (done.returncode, done.stderr)
    packages = " ".join(dict.fromkeys(debian_package(s) for s in missing))
    assert f"sudo apt-get install {packages}" in done.stderr
