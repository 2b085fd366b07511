"""The neighbourhood tiling: every window of a tile lies in the input cells it shows, tiles
cover the output without gaps, and a click maps back to the window around it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convplay.core.neighbourhood import TARGET_CELLS, WHOLE_CELLS, AxisTiling, shows_whole, tiling
from convplay.core.spec import ConvSpec


def test_small_inputs_are_drawn_whole_and_photos_are_not():
    assert shows_whole((7, 7), (5, 5))  # the tutorial's 5x5 X padded by 1
    assert shows_whole((WHOLE_CELLS, WHOLE_CELLS), (14, 14))
    assert not shows_whole((256, 256), (254, 254))  # the camera
    assert not shows_whole((5, 40), (3, 38))


def test_a_3x3_kernel_on_the_camera_shows_12_input_cells_and_their_10_outputs():
    axis = AxisTiling(driver_size=254, reached_size=256, stride=1, extent=3)
    assert axis.tile == 10 and axis.span == 12
    assert axis.tile_of(45) == (40, 50) and axis.reach(40, 50) == (40, 52)
    assert axis.tile_of(253) == (244, 254)  # the last tile is full-sized, ending at the edge
    assert axis.reach(244, 254) == (244, 256)


def test_stride_and_dilation_change_the_tile_not_the_rule():
    strided = AxisTiling(driver_size=64, reached_size=130, stride=2, extent=3)
    assert strided.tile == 5 and strided.span == 11  # (5 - 1) * 2 + 3
    dilated = AxisTiling(driver_size=60, reached_size=64, stride=1, extent=5)  # 3 taps, dilation 2
    assert dilated.tile == 8 and dilated.span == 12
    huge = AxisTiling(driver_size=10, reached_size=40, stride=1, extent=31)  # a window wider than the target
    assert huge.tile == 1 and huge.span == 31


def test_a_transposed_conv_stamps_from_minus_the_padding():
    # ConvTranspose2d, stride 2, kernel 3, padding 1: input pixel r stamps rows 2r-1 .. 2r+1.
    axis = AxisTiling(driver_size=20, reached_size=39, stride=2, extent=3, offset=-1)
    start, stop = axis.tile_of(0)
    assert axis.reach(start, stop) == (0, (stop - 1) * 2 - 1 + 3)  # row -1 is cropped
    assert axis.driver_at(10.0) == 5  # pixel 5 stamps rows 9..11, centred on row 10


specs = st.fixed_dictionaries({
    "size": st.integers(17, 90),
    "k": st.integers(1, 7),
    "stride": st.integers(1, 4),
    "dilation": st.integers(1, 3),
    "padding": st.integers(0, 3),
    "target": st.integers(5, 20),
})


@given(p=specs)
def test_every_window_of_a_tile_lies_in_the_cells_it_shows(p):
    spec = ConvSpec(kernel_size=p["k"], stride=p["stride"], dilation=p["dilation"], padding=p["padding"])
    if not spec.is_valid((1, p["size"], p["size"])):
        return
    _, h_out, w_out = spec.output_shape((1, p["size"], p["size"]))
    padded = p["size"] + 2 * p["padding"]
    t = tiling((h_out, w_out), (padded, padded), spec.stride_hw, spec.dilated_kernel_hw, target=p["target"])
    extent = spec.dilated_kernel_hw[0]
    covered = set()
    for i in range(h_out):
        tile = t.at(i, i % w_out)
        (r0, r1), (q0, q1) = tile.driver_rows, tile.driver_cols
        assert r0 <= i < r1 and q0 <= i % w_out < q1
        (a0, a1), _ = tile.reached_rows, tile.reached_cols
        top = i * p["stride"]
        assert a0 <= top and top + extent <= a1  # the whole window is on screen
        assert a1 - a0 <= max(t.reached_cells[0], extent)
        covered.update(range(r0, r1))
        # A click on the window's centre picks that window again.
        assert t.rows.driver_at(top + (extent - 1) / 2) == i
    assert covered == set(range(h_out))  # no output row is left out of every tile
    assert t.driver_cells[0] == min(max(1, (p["target"] - extent) // p["stride"] + 1 if p["target"] >= extent else 1), h_out)


@pytest.mark.parametrize("target", [(12, 8), (8, 12)])
def test_a_neighbourhood_may_be_longer_along_one_side(target):
    t = tiling((254, 254), (256, 256), (1, 1), (3, 3), target=target)
    assert t.reached_cells == target
    assert TARGET_CELLS == 12
