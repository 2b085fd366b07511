"""The results model without Qt: stale and fresh, the newest generation wins, the reference."""

from __future__ import annotations

import numpy as np
import pytest

from convplay.core.compute_settings import ComputeSettings
from convplay.core.results import ComputeOutcome, Results, reference_outcome, symmetric_levels
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from oracles import torch_conv


def _session() -> Session:
    rng = np.random.default_rng(0)
    return Session(rng.normal(size=(1, 6, 6)), ConvSpec(kernel_size=3), rng.normal(size=(1, 1, 3, 3)))


def _outcome(request, output=None) -> ComputeOutcome:
    if output is None:
        output = torch_conv(request.image, request.weight, request.bias, request.spec).astype(np.float32)
    return ComputeOutcome(request, output, 0.001, "CPU")


class Recorder:
    def __init__(self, results: Results):
        self.events: list[tuple[str, object]] = []
        results.outcome_changed.connect(lambda o: self.events.append(("outcome", o)))
        results.stale_changed.connect(lambda s: self.events.append(("stale", s)))
        results.reference_changed.connect(lambda: self.events.append(("reference", None)))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]


def test_fresh_after_a_valid_spec():
    results, session = Results(), _session()
    request = results.begin(session, ComputeSettings())
    assert request is not None and results.request is request
    assert not results.fresh and results.output is None
    assert results.set_outcome(results.generation, _outcome(request))
    assert results.fresh and results.stale == ""
    np.testing.assert_allclose(results.current_output, torch_conv(session.image, session.weight, session.bias, session.spec), atol=1e-5)


def test_stale_after_an_invalid_spec_keeps_the_last_output():
    results, session = Results(), _session()
    request = results.begin(session, ComputeSettings())
    results.set_outcome(results.generation, _outcome(request))
    shown = results.output
    recorder = Recorder(results)
    session.set_spec(session.spec.replace(padding="same", stride=2))
    assert results.begin(session, ComputeSettings()) is None
    assert "stride" in results.stale  # PyTorch's own reason: 'same' is not for strided convs
    assert results.output is shown  # still there to be shown, marked stale
    assert not results.fresh and results.current_output is None
    assert recorder.names() == ["stale"]


def test_an_output_over_a_gibibyte_is_refused_in_words_and_the_last_output_kept():
    results, session = Results(), _session()
    request = results.begin(session, ComputeSettings())
    results.set_outcome(results.generation, _outcome(request))
    shown = results.output
    # 1 -> 65 channels of a 2048x2048 input: one channel more than the largest allowed
    session.set_image(np.zeros((1, 2048, 2048)))
    session.set_spec(session.spec.replace(out_channels=65, padding=1))
    assert results.begin(session, ComputeSettings()) is None
    assert results.stale.startswith("the output would be 65×2048×2048 = 272,629,760 values (1.0 GiB in float32)")
    assert "at most 268,435,456 (64×2048×2048)" in results.stale
    assert results.output is shown
    session.set_spec(session.spec.replace(out_channels=64))
    assert results.begin(session, ComputeSettings()) is not None  # 64 channels: exactly the limit


def test_fresh_again_after_the_settings_are_fixed():
    results, session = Results(), _session()
    session.set_spec(session.spec.replace(kernel_size=9))  # larger than the 6x6 input
    assert results.begin(session, ComputeSettings()) is None
    assert "kernel" in results.stale.lower()
    session.set_spec(session.spec.replace(kernel_size=3))
    request = results.begin(session, ComputeSettings())
    assert results.stale  # until PyTorch's answer is in, the old output is still stale
    results.set_outcome(results.generation, _outcome(request))
    assert results.stale == "" and results.fresh


def test_the_newest_generation_wins_and_a_late_older_result_is_dropped():
    results, session = Results(), _session()
    first = results.begin(session, ComputeSettings())
    first_generation = results.generation
    session.set_weight(np.ones((1, 1, 3, 3)))
    second = results.begin(session, ComputeSettings())
    recorder = Recorder(results)
    assert results.set_outcome(results.generation, _outcome(second))
    assert not results.set_outcome(first_generation, _outcome(first))  # arrives late
    assert results.dropped == 1
    assert results.outcome.request is second
    assert recorder.names() == ["outcome"]
    np.testing.assert_allclose(results.output, torch_conv(session.image, np.ones((1, 1, 3, 3)), None, session.spec), atol=1e-5)


def test_a_failure_of_older_settings_is_dropped_and_a_current_one_makes_it_stale():
    results, session = Results(), _session()
    results.begin(session, ComputeSettings())
    old = results.generation
    results.begin(session, ComputeSettings())
    assert not results.set_failed(old, "out of memory")
    assert results.stale == ""
    assert results.set_failed(results.generation, "out of memory")
    assert "out of memory" in results.stale


def test_reference_is_wanted_only_while_a_view_asks_and_is_forgotten_with_new_settings():
    results, session = Results(), _session()
    request = results.begin(session, ComputeSettings())
    results.set_outcome(results.generation, _outcome(request))
    assert not results.needs_reference
    wanted = []
    results.reference_wanted_changed.connect(wanted.append)
    results.want_reference("animation")
    results.want_reference("badge")
    assert results.needs_reference and wanted == [True]
    reference = reference_outcome(request, results.output)
    assert results.set_reference(results.generation, reference)
    assert results.match is not None and results.match.matches
    assert not results.needs_reference
    results.begin(session, ComputeSettings())
    assert results.reference is None and results.match is None
    results.want_reference("animation", False)
    results.want_reference("badge", False)
    assert wanted == [True, False]


def test_reference_outcome_equals_torch_and_catches_a_wrong_output():
    results, session = Results(), _session()
    request = results.begin(session, ComputeSettings(dtype="float64"))
    expected = torch_conv(session.image, session.weight, session.bias, session.spec)
    good = reference_outcome(request, expected)
    np.testing.assert_allclose(good.reference, expected, rtol=0, atol=1e-12)
    assert good.match.matches
    wrong = expected.copy()
    wrong[0, 2, 3] += 0.5
    bad = reference_outcome(request, wrong).match
    assert bad.n_mismatched == 1 and bad.mismatched.tolist() == [[0, 2, 3]]
    m = float(np.abs(expected).max())
    assert good.levels == pytest.approx((-m, m))


def test_reference_error_is_kept_and_said():
    results, session = Results(), _session()
    request = results.begin(session, ComputeSettings())
    results.set_outcome(results.generation, _outcome(request))
    results.want_reference("animation")
    assert results.set_reference_error(results.generation, "MemoryError")
    assert results.reference_error == "MemoryError" and not results.needs_reference


def test_busy_is_announced_once_per_change():
    results, seen = Results(), []
    results.busy_changed.connect(seen.append)
    for busy in (True, True, False, False, True):
        results.set_busy(busy)
    assert seen == [True, False, True]


@pytest.mark.parametrize(
    "values, expected",
    [
        (np.array([1.0, -3.0, 2.0]), (-3.0, 3.0)),
        (np.array([np.nan, -2.0, np.inf]), (-2.0, 2.0)),
        (np.zeros(4), (-1.0, 1.0)),
        (np.array([np.nan]), (-1.0, 1.0)),
        (np.zeros(0), (-1.0, 1.0)),
    ],
)
def test_symmetric_levels(values, expected):
    assert symmetric_levels(values) == expected
