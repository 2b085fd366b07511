"""Can Qt open a window here?  Asked before the QApplication exists, without importing Qt.

On Linux, Qt picks a platform plugin (xcb for X11, wayland) when the QApplication is
made; when the plugin's system libraries are missing, Qt prints a misleading line
("xcb-cursor0 or libxcb-cursor0 is needed", whatever is really missing) and aborts the
process (exit 134).  With no display at all it aborts too.  :func:`display_problem`
predicts both from the environment and the plugin file (one ``ldd``), and returns the
message for the user, naming the Debian/Ubuntu packages to install; ``None`` means go on.

The check must never stop a desktop that works: anything it cannot decide (another OS,
another platform plugin, a plugin file it cannot find, ldd failing) is ``None``.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

# Debian / Ubuntu package of each shared library Qt 6.11's xcb and wayland plugins load
# (their NEEDED entries and what those need in turn), by soname.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libGLdispatch.so.0": "libglvnd0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libz.so.1": "zlib1g",
    "libpng16.so.16": "libpng16-16",
    "libexpat.so.1": "libexpat1",
    "libzstd.so.1": "libzstd1",
    "libbrotlidec.so.1": "libbrotli1",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}


@dataclass(frozen=True)
class Plugin:
    """A Linux platform plugin: its file, the variable that names its display, the
    system libraries it needs (the fallback list when ldd cannot be run)."""

    name: str
    file: str
    display_variable: str
    libraries: tuple[str, ...]


XCB = Plugin(
    "xcb",
    "libqxcb.so",
    "DISPLAY",
    (
        "libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-image.so.0", "libxcb-keysyms.so.1",
        "libxcb-randr.so.0", "libxcb-render-util.so.0", "libxcb-render.so.0", "libxcb-shape.so.0",
        "libxcb-shm.so.0", "libxcb-sync.so.1", "libxcb-util.so.1", "libxcb-xfixes.so.0", "libxcb-xkb.so.1",
        "libxcb.so.1", "libX11-xcb.so.1", "libX11.so.6", "libxkbcommon.so.0", "libxkbcommon-x11.so.0",
        "libGL.so.1", "libEGL.so.1", "libglib-2.0.so.0", "libgthread-2.0.so.0", "libfontconfig.so.1",
        "libfreetype.so.6", "libdbus-1.so.3",
    ),
)
WAYLAND = Plugin(
    "wayland",
    "libqwayland.so",
    "WAYLAND_DISPLAY",
    (
        "libwayland-client.so.0", "libwayland-cursor.so.0", "libxkbcommon.so.0", "libGL.so.1",
        "libEGL.so.1", "libglib-2.0.so.0", "libfontconfig.so.1", "libfreetype.so.6", "libdbus-1.so.3",
    ),
)
PLUGINS = {p.name: p for p in (XCB, WAYLAND)}

LDD_TIMEOUT_S = 5.0
NO_DISPLAY_EXIT = 1
MISSING_LIBRARIES_EXIT = 1

# "	libxcb-icccm.so.4 => not found"
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)

Runner = Callable[[Sequence[str]], Optional[str]]  # a command's stdout, None if it could not run
Loader = Callable[[str], bool]  # True when the shared library loads


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships ``soname``; for a library not in the table,
    Debian's naming rule (libfoo.so.3 -> libfoo3, libfoo2.so.0 -> libfoo2-0)."""
    if soname in DEBIAN_PACKAGES:
        return DEBIAN_PACKAGES[soname]
    match = re.fullmatch(r"(lib[\w.+-]+?)\.so\.(\d+)(?:\.\d+)*", soname)
    if not match:
        return soname
    stem, version = match.group(1).lower(), match.group(2)
    return f"{stem}-{version}" if stem[-1].isdigit() else f"{stem}{version}"


def candidate_platforms(env: Mapping[str, str]) -> list[str]:
    """The plugins Qt will try, in order, as QGuiApplication chooses them on Linux:
    QT_QPA_PLATFORM's ';'-separated list (options after ':' dropped), else wayland first on a
    Wayland session, then xcb."""
    named = env.get("QT_QPA_PLATFORM", "").strip()
    if named:
        return [part.split(":", 1)[0].strip().lower() for part in named.split(";") if part.strip()]
    if env.get("XDG_SESSION_TYPE", "").lower() == "wayland" and env.get("WAYLAND_DISPLAY"):
        return ["wayland", "xcb"]
    return ["xcb"]


def plugin_path(plugin: Plugin, env: Mapping[str, str]) -> Optional[Path]:
    """The plugin file Qt will load: from QT_QPA_PLATFORM_PLUGIN_PATH if set, else the one
    inside the PySide6 package (found without importing it)."""
    folders = [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    spec = importlib.util.find_spec("PySide6")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            folders.append(Path(location) / "Qt" / "plugins" / "platforms")
    for folder in folders:
        candidate = folder / plugin.file
        if candidate.is_file():
            return candidate
    return None


def run_ldd(args: Sequence[str]) -> Optional[str]:
    """``ldd`` on a file: its stdout, or None when ldd is not there or fails."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run(
            [ldd, *args], capture_output=True, text=True, timeout=LDD_TIMEOUT_S, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return None
    # ldd exits 0 even with "not found" lines; anything else means it could not read the file.
    return done.stdout if done.returncode == 0 else None


def library_loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(
    plugin: Plugin, path: Path, run: Runner = run_ldd, loads: Loader = library_loads
) -> list[str]:
    """The sonames the plugin (and the libraries it loads) cannot find, in ldd's order.

    One ldd call; where ldd cannot run, each library of the plugin's known list is loaded
    with ctypes instead (the ones that fail are the missing ones)."""
    output = run([str(path)])
    if output is not None:
        return list(dict.fromkeys(_NOT_FOUND.findall(output)))
    return [soname for soname in plugin.libraries if not loads(soname)]


def display_problem(
    env: Mapping[str, str] | None = None,
    *,
    platform: str | None = None,
    run: Runner = run_ldd,
    loads: Loader = library_loads,
    find_plugin: Callable[[Plugin, Mapping[str, str]], Optional[Path]] = plugin_path,
) -> Optional[str]:
    """Why Qt will not be able to open a window, as a message for the user; None if it can
    (or if the check cannot tell: then Qt decides, as it would without this check)."""
    try:
        return _display_problem(os.environ if env is None else env, platform or sys.platform, run, loads, find_plugin)
    except Exception:  # the check is a courtesy: a failure in it must not stop the app
        return None


def _display_problem(env, platform, run, loads, find_plugin) -> Optional[str]:
    if not platform.startswith("linux"):
        return None
    tried = []
    for name in candidate_platforms(env):
        plugin = PLUGINS.get(name)
        if plugin is None:
            return None  # offscreen, minimal, vnc, eglfs...: not this check's business
        if not env.get(plugin.display_variable):
            continue  # Qt will not get a connection through this plugin: it tries the next one
        path = find_plugin(plugin, env)
        if path is None:
            return None
        missing = missing_libraries(plugin, path, run, loads)
        if not missing:
            return None  # this plugin loads: Qt opens its window with it
        tried.append((plugin, missing))
    if not tried:
        return no_display_message(env)
    return missing_libraries_message(tried, env)


def no_display_message(env: Mapping[str, str]) -> str:
    return "\n".join(
        (
            "convplay: there is no display to open a window on: neither DISPLAY (X11) nor "
            "WAYLAND_DISPLAY (Wayland) is set, as in an SSH session or a container.",
            "  To see the window on your own screen, log in with ssh -X, or run convplay on the desktop.",
            "  To save a picture of the window without any display: convplay --screenshot window.png "
            "(it takes the other options as well).",
            "  To run it on a virtual screen: xvfb-run convplay, or QT_QPA_PLATFORM=offscreen convplay "
            "(draws without showing anything, for scripts and tests).",
        )
    )


def missing_libraries_message(tried: list[tuple[Plugin, list[str]]], env: Mapping[str, str]) -> str:
    """What is missing for each plugin Qt would try, and one apt line that installs all of it."""
    lines = []
    for plugin, missing in tried:
        where = f"{plugin.display_variable}={env.get(plugin.display_variable, '')}"
        lines.append(
            f"convplay: Qt cannot open a window on this display ({where}): its {plugin.name} platform "
            f"plugin needs system libraries that are not installed: {', '.join(missing)}."
        )
    packages = list(dict.fromkeys(debian_package(s) for _, missing in tried for s in missing))
    lines += [
        "  On Debian or Ubuntu, install them with:",
        f"    sudo apt-get install {' '.join(packages)}",
        "  (Other distributions name the packages differently; the libraries above are what is missing.)",
        "  Without them, convplay --screenshot window.png still saves a picture of the window.",
    ]
    return "\n".join(lines)
