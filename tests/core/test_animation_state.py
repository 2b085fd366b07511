"""The animation's state machine, without Qt or a timer."""

from hypothesis import given, settings
from hypothesis import strategies as st

from convplay.core.animation import MAX_SPEED, MIN_SPEED, AnimationState


def test_cells_are_row_major_over_channel_row_col():
    a = AnimationState((2, 3, 4))
    assert a.n_steps == 24
    assert a.cell(0) == (0, 0, 0)
    assert a.cell(5) == (0, 1, 1)
    assert a.cell(12) == (1, 0, 0)
    assert a.cell(23) == (1, 2, 3)
    assert all(a.index_of(*a.cell(k)) == k for k in range(24))


def test_seek_clamps_and_emits():
    a = AnimationState((1, 3, 3))
    seen = []
    a.position_changed.connect(seen.append)
    a.seek(4)
    a.seek(100)
    a.seek(-5)
    assert seen == [4, 8, 0]
    a.seek(0)
    assert seen == [4, 8, 0]  # no event when nothing moves


def test_step_forward_back_rows_start_end():
    a = AnimationState((1, 3, 4))
    a.step_forward()
    assert a.position == 1
    a.step_back()
    a.step_back()
    assert a.position == 0  # no wrap without loop
    a.next_row()
    assert a.cell() == (0, 1, 0)
    a.previous_row()
    assert a.position == 0
    a.to_end()
    assert a.position == 11
    a.step_forward()
    assert a.position == 11
    a.to_start()
    assert a.position == 0


def test_loop_wraps_manual_steps():
    a = AnimationState((1, 2, 2), loop=True)
    a.step_back()
    assert a.position == 3
    a.step_forward()
    assert a.position == 0


def test_play_to_the_end_stops_there():
    a = AnimationState((1, 2, 5), speed=10)
    a.play()
    assert a.playing
    taken = sum(a.advance(0.1) for _ in range(50))
    assert a.position == 9
    assert not a.playing
    assert taken == 9


def test_advance_accumulates_fractions_of_steps():
    a = AnimationState((1, 10, 10), speed=0.5)
    a.play()
    assert a.advance(1.0) == 0
    assert a.advance(1.0) == 1
    assert a.position == 1


def test_advance_while_paused_does_nothing():
    a = AnimationState((1, 4, 4), speed=60)
    assert a.advance(1.0) == 0
    assert a.position == 0


def test_loop_plays_forever():
    a = AnimationState((1, 2, 2), speed=10, loop=True)
    a.play()
    for _ in range(7):
        a.advance(0.1)
    assert a.playing
    assert a.position == 7 % 4


def test_play_at_the_end_restarts():
    a = AnimationState((1, 2, 2))
    a.to_end()
    a.play()
    assert a.position == 0 and a.playing


def test_speed_is_clamped():
    a = AnimationState((1, 1, 1))
    a.set_speed(1000)
    assert a.speed == MAX_SPEED
    a.set_speed(0)
    assert a.speed == MIN_SPEED


def test_spec_change_keeps_the_cell_where_it_exists():
    a = AnimationState((2, 4, 4))
    a.seek_cell(1, 2, 3)
    a.play()
    a.set_shape((2, 5, 6))
    assert a.cell() == (1, 2, 3)
    assert a.playing


def test_spec_change_restarts_cleanly_when_the_cell_is_gone():
    a = AnimationState((2, 4, 4))
    a.seek_cell(1, 2, 3)
    a.play()
    seen = []
    a.position_changed.connect(seen.append)
    a.set_shape((1, 2, 2))
    assert a.position == 0
    assert not a.playing
    assert seen == [0]


def test_settings_that_cannot_animate_keep_the_cell_for_when_they_can_again():
    a = AnimationState((1, 3, 3))
    a.seek(4)
    a.set_shape((0, 0, 0))  # e.g. groups 2 on a one-channel image
    assert a.n_steps == 0 and a.position == 0
    a.set_shape((1, 3, 3))  # groups back to 1
    assert a.position == 4 and a.cell() == (0, 1, 1)
    a.set_shape((0, 0, 0))
    a.set_shape((1, 1, 1))  # the cell is gone: the first step
    assert a.position == 0


def test_empty_shape_is_inert():
    a = AnimationState((0, 0, 0))
    a.play()
    a.step_forward()
    a.to_end()
    assert a.n_steps == 0 and a.position == 0 and not a.playing


def test_seek_cell_outside_is_ignored():
    a = AnimationState((1, 2, 2))
    a.seek_cell(0, 5, 0)
    assert a.position == 0


@settings(max_examples=200, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6)),
    ops=st.lists(st.sampled_from(["f", "b", "u", "d", "s", "e", "p", "t", "l"]), max_size=40),
)
def test_position_always_in_range(shape, ops):
    a = AnimationState(shape, speed=30)
    actions = {
        "f": a.step_forward, "b": a.step_back, "u": a.previous_row, "d": a.next_row,
        "s": a.to_start, "e": a.to_end, "p": a.toggle, "l": lambda: a.set_loop(not a.loop),
        "t": lambda: a.advance(0.25),
    }
    for op in ops:
        actions[op]()
        assert 0 <= a.position < a.n_steps
