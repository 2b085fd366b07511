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
GHOST = "#5a5a5a"  # the previous window's outline (drawn translucent)
VIEW_BACKGROUND = "#ffffff"  # behind the sliding window's cells: a cell not computed yet shows empty

# -- cells, their labels and the views around them ---------------------------------------
CELL_BACKGROUND = "#ffffff"  # a value grid's zero; the group diagram's ground and boxes
POSITIVE_TINT = "#ffa5a5"  # a value grid's largest positive value (smaller ones paler)
NEGATIVE_TINT = "#a5a5ff"  # a value grid's most negative value
LIGHT_LABEL_TEXT = "#ffffff"  # a cell label on a dark cell (LABEL_TEXT on a light one)
CANVAS_BACKGROUND = "#46464a"  # behind the input canvas: neither black nor white, both show as pixels
THUMBNAIL_BACKGROUND = "#000000"  # behind the feature-map grid, as behind pyqtgraph's views beside it
THUMBNAIL_TEXT = "#d0d0d0"
COLORBAR_FRAME = "#969696"
PAD_HATCH = "#6e6e6e"  # product-grid cells whose tap reads padding (drawn translucent)
PRODUCT_GRID_LINE = "#787878"
DIAGRAM_TEXT = "#202020"
DIAGRAM_HEADING = "#505050"  # the group diagram's "in" and "out"
# Paul Tol's "bright" scheme, safe for colour-blind readers, one hue per group; orange is
# left out because the sliding window and its highlighted lines are orange.
GROUP_COLOURS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377")

# -- colour maps (pyqtgraph names) ------------------------------------------------------
DIVERGING = "CET-D1"  # signed values: blue below 0, white at 0, red above
SEQUENTIAL = "viridis"  # |x| and ReLU(x): 0 upwards
GREYS = "CET-L1"  # input images in the sliding window: black to white
GREY_IMAGE = "grey"  # an output shown as an image: black 0 to white 1 in equal steps (core.display.grey_lut)
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
