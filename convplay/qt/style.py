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


# -- the high-contrast theme (View > High contrast): for a washed-out projector ----------------
# Pure black on white, a strong selection, the greys darkened so that notes survive a
# projector's glare, and lines drawn thicker.  The application's palette and style sheet
# are built from these in qt/theme.py; views read a colour through ``colour(name)`` and a
# line's width through ``line_width(px)`` so that they follow the theme.
HC_TEXT = "#000000"
HC_BACKGROUND = "#ffffff"
HC_ALTERNATE_BACKGROUND = "#ebebeb"
HC_BUTTON = "#e4e4e4"
HC_FRAME = "#000000"  # frames, separators, splitter handles
HC_MID = "#5c5c5c"  # the bevels a style draws from the palette's mid and dark
HC_DISABLED_TEXT = "#4a4a4a"  # still readable: the normal disabled grey vanishes on a projector
HC_SELECTION = "#0030c0"
HC_SELECTION_TEXT = "#ffffff"
HC_TOOLTIP = "#ffffc8"
HC_LINK = "#0000c8"
HIGH_CONTRAST: dict[str, str] = {  # a colour's name above -> its colour in the high-contrast theme
    "MUTED": "#333333",
    "ERROR": "#b00000",
    "OK": "#005f1a",
    "WARNING": "#a000a0",
    "STALE_TEXT": "#000000",
    "WINDOW": "#f05a00",
    "PREVIEW": "#007ea8",
    "PADDING": "#0030c0",
    "PENDING": "#5a5a5a",
    "GRID_LINE": "#000000",
    "LABEL_TEXT": "#000000",
    "PAD_LABEL_TEXT": "#000000",
    "SELECTED_FRAME": "#f05a00",
    "GHOST": "#000000",
    "THUMBNAIL_TEXT": "#ffffff",
    "COLORBAR_FRAME": "#000000",
    "PAD_HATCH": "#303030",
    "PRODUCT_GRID_LINE": "#000000",
    "DIAGRAM_TEXT": "#000000",
    "DIAGRAM_HEADING": "#000000",
    "POSITIVE": "#b8321a",
    "NEGATIVE": "#0a32b4",
}
HIGH_CONTRAST_LINE_SCALE = 2.0  # outlines, grid lines and frames: twice as wide

_high_contrast = False  # which of the two sets is on; set by qt/theme.py, which also says so


def high_contrast() -> bool:
    """True while View > High contrast is on."""
    return _high_contrast


def set_high_contrast(on: bool) -> None:
    """Switch the set ``colour`` and ``line_width`` answer from.  Called by ``qt.theme``
    only, which applies the palette and tells the views (``theme().theme_changed``)."""
    global _high_contrast
    _high_contrast = bool(on)


def colour(name: str) -> str:
    """The colour called ``name`` above ("MUTED", "WINDOW", ...) in the theme that is on."""
    normal = globals()[name]
    return HIGH_CONTRAST.get(name, normal) if _high_contrast else normal


def line_width(width: float = 1.0) -> float:
    """A line ``width`` px wide in the normal theme, as wide as the theme on wants it."""
    return width * HIGH_CONTRAST_LINE_SCALE if _high_contrast else width


def muted_text_style() -> str:
    """``MUTED_TEXT_STYLE`` in the theme that is on."""
    return f"color: {colour('MUTED')};"


# -- the presenter view -----------------------------------------------------------------------
BLANK_SCREEN = "#000000"  # B or . during a talk: the screen goes black
PRESENTER_NOTE_STYLE = (
    "QLabel { color: #ffffff; background: rgba(0, 0, 0, 165); padding: 4px 10px; border-radius: 6px; }"
)
