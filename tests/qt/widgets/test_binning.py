"""The output's pixels, coloured off the UI thread (core.display.coloured), are the ones
pyqtgraph itself would draw: its own makeARGB is the oracle."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pyqtgraph import functions as fn

from convplay.core.display import argb_table, coloured

# Grey levels equal to the bin: whichever byte order pyqtgraph returns, each colour byte is the bin.
GREY_INDEX_LUT = np.stack([np.arange(256)] * 3 + [np.full(256, 255)], axis=1).astype(np.uint8)


@settings(max_examples=150, deadline=None)
@given(
    values=hnp.arrays(np.float32, (5, 7), elements=st.floats(-1e3, 1e3, width=32)),
    lo=st.floats(-1e3, 0), stretch=st.floats(1.0, 2.0), floor=st.floats(1e-3, 1e3),
)
def test_coloured_bins_exactly_as_pyqtgraph_does(values, lo, stretch, floor):
    span = max(-lo * stretch, floor)  # the views' levels span at least their low end's magnitude
    ours = coloured(values, (lo, lo + span), argb_table(GREY_INDEX_LUT)) & 0xFF
    theirs, _alpha = fn.makeARGB(values, lut=GREY_INDEX_LUT, levels=(lo, lo + span))
    np.testing.assert_array_equal(ours, theirs[..., 0])
