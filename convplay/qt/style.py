"""Colours, colour maps and text styles, written once for every view.

Colours are hex strings (what style sheets, QColor and pyqtgraph all take); style sheet
snippets are built from them here so that a panel never spells a colour itself.
"""

from __future__ import annotations

# -- meaning --------------------------------------------------------------------------
ERROR = "#c62828"  # a refused value, a failed check
ERROR_BACKGROUND = "#ffcdd2"
OK = "#1a7f37"  # a passed check
MUTED = "#757575"  # secondary text: notes, units, "loading…"
WARNING = "#c000c0"  # non-finite values in a loaded kernel (their cells are hatched in magenta)
STALE_BACKGROUND = "#ffd54f"
STALE_TEXT = "#3e2723"

# -- the sliding window -----------------------------------------------------------------
WINDOW = "#ff8c00"  # the window's orange: what the kernel reads now
PREVIEW = "#00b7eb"  # the hovered output cell's window
PADDING = "#1f5fbf"  # the outline of padding cells
MISMATCH = "#e00000"  # an output cell PyTorch and the reference disagree on
PENDING = "#9a9a9a"  # output cells not computed yet; diagram boxes spanning several groups
GRID_LINE = "#b0b0b0"
LABEL_TEXT = "#111111"
PAD_LABEL_TEXT = "#303030"
SELECTED_FRAME = "#ff9800"  # the selected feature map in the channel grid

# -- colour maps (pyqtgraph names) ------------------------------------------------------
DIVERGING = "CET-D1"  # signed values: blue below 0, white at 0, red above
SEQUENTIAL = "viridis"  # |x| and ReLU(x): 0 upwards
POSITIVE, NEGATIVE = "#d6573e", "#2151db"  # the ends of DIVERGING, for text in those colours

# -- style sheets -----------------------------------------------------------------------
ERROR_TEXT_STYLE = f"color: {ERROR};"
MUTED_TEXT_STYLE = f"color: {MUTED};"
WARNING_TEXT_STYLE = f"color: {WARNING}; font-weight: bold;"
OK_TEXT_STYLE = f"color: {OK};"
FAILED_TEXT_STYLE = f"color: {ERROR}; font-weight: bold;"
STALE_BANNER_STYLE = (
    f"QLabel {{ background: {STALE_BACKGROUND}; color: {STALE_TEXT}; font-weight: bold; "
    "padding: 4px; border-radius: 3px; }"
)


def invalid_frame_style(object_name: str) -> str:
    """The red frame around a field whose value PyTorch would refuse."""
    return (
        f"QFrame#{object_name} {{ border: 2px solid {ERROR}; border-radius: 4px; "
        f"background-color: {ERROR_BACKGROUND}; }}"
    )
