"""Session events: ``edited`` comes first, with the whole new state already in place."""

from __future__ import annotations

import numpy as np
import pytest

from convplay.core.session import Session
from convplay.core.spec import ConvSpec

EVENTS = ("edited", "image_changed", "spec_changed", "kernel_changed", "changed")


@pytest.fixture
def session() -> Session:
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3)
    return Session(np.zeros((1, 8, 8)), spec, np.ones(spec.weight_shape))


def record(session: Session) -> list[tuple[str, int, tuple[int, ...]]]:
    """(event, the spec's in_channels, the weight's shape) as each listener saw them."""
    seen: list[tuple[str, int, tuple[int, ...]]] = []
    for name in EVENTS:
        getattr(session, name).connect(
            lambda name=name: seen.append((name, session.spec.in_channels, session.weight.shape))
        )
    return seen


def names(seen) -> list[str]:
    return [name for name, *_ in seen]


def test_a_weight_edit_emits_edited_first(session):
    seen = record(session)
    session.set_weight(session.weight * 2)
    assert names(seen) == ["edited", "kernel_changed", "changed"]


def test_an_image_with_other_channels_is_announced_once_the_spec_fits_it(session):
    seen = record(session)
    session.set_image(np.zeros((3, 8, 8)))
    assert names(seen) == ["edited", "image_changed", "spec_changed", "kernel_changed", "changed"]
    # Every listener, the first included, sees the adapted spec and weight.
    assert {(c, shape) for _, c, shape in seen} == {(3, (2, 3, 3, 3))}


def test_an_image_of_the_same_channels_changes_only_the_image(session):
    seen = record(session)
    session.set_image(np.ones((1, 5, 5)))
    assert names(seen) == ["edited", "image_changed", "changed"]


def test_spec_edits(session):
    seen = record(session)
    session.set_spec(session.spec.replace(stride=2))
    assert names(seen) == ["edited", "spec_changed", "changed"]
    seen.clear()
    session.set_spec(session.spec.replace(kernel_size=5))
    assert names(seen) == ["edited", "spec_changed", "kernel_changed", "changed"]
    assert seen[0][2] == (2, 1, 5, 5)
    seen.clear()
    session.set_spec(session.spec)  # no change, no event
    assert seen == []


def test_kernel_bias_and_flip_edits(session):
    seen = record(session)
    session.set_bias(np.array([1.0, 2.0]))
    session.set_true_convolution(True)
    spec = session.spec.replace(kernel_size=1)
    session.set_kernel(spec, np.ones(spec.weight_shape))
    assert names(seen) == (
        ["edited", "kernel_changed", "changed"] * 2 + ["edited", "spec_changed", "kernel_changed", "changed"]
    )


def test_restore_emits_only_what_changed(session):
    snap = session.snapshot()
    session.set_weight(session.weight * 3)
    seen = record(session)
    session.restore(snap)
    assert names(seen) == ["edited", "kernel_changed", "changed"]
    seen.clear()
    session.restore(snap)  # already there
    assert seen == []


def test_groups_that_do_not_divide_keep_the_kernel_until_fixed():
    import numpy as np

    from convplay.core.session import Session
    from convplay.core.spec import ConvSpec

    session = Session(np.zeros((1, 8, 8)), ConvSpec(1, 3, 3), np.ones((3, 1, 3, 3)))
    session.set_spec(session.spec.replace(groups=3))  # 1 input channel cannot be split in 3
    assert session.weight.shape == (3, 1, 3, 3)
    session.set_spec(session.spec.replace(groups=1, out_channels=2))
    assert session.weight.shape == (2, 1, 3, 3)
    assert np.all(session.weight == 1)


def test_a_session_can_start_on_impossible_settings():
    import numpy as np

    from convplay.core.session import Session
    from convplay.core.spec import ConvSpec

    session = Session(np.zeros((1, 8, 8)), ConvSpec(1, 3, 3, groups=3), np.ones((1, 1, 3, 3)))
    assert session.weight.shape == (1, 1, 3, 3)


def test_a_larger_kernel_size_keeps_the_kernel_centred():
    import numpy as np

    from convplay.core.session import Session
    from convplay.core.spec import ConvSpec

    sobel = np.array([[[[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]]])
    session = Session(np.zeros((1, 9, 9)), ConvSpec(1, 1, 3), sobel)
    session.set_spec(session.spec.replace(kernel_size=5))  # as the parameters panel does
    np.testing.assert_array_equal(session.weight[0, 0, 1:4, 1:4], sobel[0, 0])
    assert session.weight[0, 0, [0, 4], :].sum() == 0 and session.weight[0, 0, :, [0, 4]].sum() == 0
    session.set_spec(session.spec.replace(kernel_size=3))
    np.testing.assert_array_equal(session.weight, sobel)
