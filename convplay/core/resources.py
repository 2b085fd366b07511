"""Where the bundled files (sample photos, learned kernels, icons) live."""

from __future__ import annotations

from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource, in an installed wheel or a source checkout."""
    try:
        from importlib.resources import files

        base = Path(str(files("convplay.resources")))
    except (ModuleNotFoundError, TypeError):
        base = Path(__file__).resolve().parents[2] / "resources"
    path = base.joinpath(*parts)
    if not path.exists():
        # An editable install of an older layout, or running from the repo without installing.
        fallback = Path(__file__).resolve().parents[2] / "resources" / Path(*parts)
        if fallback.exists():
            return fallback
    return path
