"""Kernel numbers panel: properties, separability and the two-pass run, following the session."""

from __future__ import annotations

import numpy as np
import pytest

from convplay.core.compute_settings import ComputeSettings
from convplay.core.kernel_recipe import recipe
from convplay.core.presets import get_preset
from convplay.core.results import Results
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.panels.analysis_panel import AnalysisPanel, properties_summary

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)
LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float)


def _session(kernel: np.ndarray, name: str, out_channels: int = 1) -> Session:
    kh, kw = kernel.shape
    weight = np.repeat(kernel[None, None], out_channels, axis=0)
    image = np.random.default_rng(0).uniform(0, 1, (1, 16, 16))
    return Session(image, ConvSpec(1, out_channels, (kh, kw)), weight, kernel_name=name)


@pytest.fixture
def make_panel(qtbot):
    def make(session, results=None, settings=None):
        panel = AnalysisPanel(session, results or Results(), settings or ComputeSettings())
        qtbot.addWidget(panel)
        panel.resize(320, 700)
        panel.show()
        return panel

    return make


def test_sobel_shows_its_numbers_and_integer_factors(make_panel):
    panel = make_panel(_session(SOBEL_X, "Sobel x"))
    assert panel.title.text() == "out 0, in 0 — Sobel x"
    v = {k: label.text() for k, label in panel.values.items()}
    assert v["sum"] == "0" and v["zero_mean"] == "yes"
    assert v["symmetry_x"] == "antisymmetric" and v["symmetry_y"] == "symmetric"
    assert v["rank"].startswith("1") and v["l1"] == "8" and v["min"] == "−2" and v["max"] == "2"
    assert "√12" in v["l2"]
    assert panel.rank_line.text().startswith("Rank 1")
    assert panel.factor_line.text() == "[1 2 1]ᵀ · [−1 0 1]"
    assert panel.col_grid.values().ravel().tolist() == [1, 2, 1]
    assert panel.row_grid.values().ravel().tolist() == [-1, 0, 1]
    assert "3 + 3 = 6" in panel.cost_line.text() and "one 2-D pass 9" in panel.cost_line.text()
    # 16×16 -> 14×14, one pair: 2-D 14·14·9; column 14 rows × 16 columns × 3; row 14·14·3
    assert panel.layer_values["two_d"].text().replace("\u202f", "") == str(14 * 14 * 9)
    assert panel.layer_values["passes"].text().replace("\u202f", "") == str(14 * 16 * 3 + 14 * 14 * 3)
    assert panel.run_button.isEnabled()
    assert "singular values" in panel.rank_line.toolTip().lower()


def test_gaussian_is_rank_1(make_panel):
    g = recipe("gaussian", size=5, sigma=1.2).kernels()[0]
    panel = make_panel(_session(np.asarray(g), "Gaussian 5×5"))
    assert panel.rank_line.text().startswith("Rank 1")
    assert panel.values["symmetry_x"].text() == "symmetric" == panel.values["symmetry_y"].text()
    col, row = panel.col_grid.values(), panel.row_grid.values()
    assert np.allclose(col @ row, g)


def test_laplacian_is_not_separable(make_panel):
    panel = make_panel(_session(LAPLACIAN, "Laplacian"))
    assert panel.rank_line.text() == "Not separable (rank 2)."
    assert "% error (Frobenius)" in panel.error_line.text()
    s = np.linalg.svd(LAPLACIAN, compute_uv=False)
    assert f"{100 * np.sqrt((s[1:] ** 2).sum() / (s ** 2).sum()):.3g} %" in panel.error_line.text()
    approx = panel.col_grid.values() @ panel.row_grid.values()
    u, s, vt = np.linalg.svd(LAPLACIAN)
    assert np.allclose(approx, s[0] * np.outer(u[:, 0], vt[0]))
    assert not panel.run_button.isEnabled()
    assert "rank 2" in panel.run_reason.text()


def test_follows_edits_and_clamps_the_pair(make_panel):
    session = _session(SOBEL_X, "Sobel x", out_channels=2)
    panel = make_panel(session)
    panel.set_pair(5, -3)  # clamped, never raises
    assert panel.pair == (1, 0) and panel.title.text().startswith("out 1, in 0")
    w = np.array(session.weight)
    w[1, 0] = LAPLACIAN
    session.set_weight(w)
    assert panel.rank_line.text() == "Not separable (rank 2)."
    session.set_spec(session.spec.replace(out_channels=1))
    assert panel.pair == (0, 0)


def test_hidden_panel_draws_nothing_until_shown(make_panel):
    session = _session(SOBEL_X, "Sobel x")
    panel = make_panel(session)
    panel.hide()
    w = np.array(session.weight)
    w[0, 0] = LAPLACIAN
    session.set_weight(w, name="Laplacian")
    assert panel.rank_line.text().startswith("Rank 1")  # not redrawn while hidden
    panel.show()
    assert panel.rank_line.text() == "Not separable (rank 2)."


def test_two_passes_check_against_pytorch_then_go_stale(make_panel, qtbot):
    session = _session(SOBEL_X, "Sobel x")
    panel = make_panel(session)
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.run_line.isVisible() and "✓" in panel.run_line.text(), timeout=20000)
    assert panel.run_line.text().startswith("Two passes give PyTorch's 2-D output: max |difference|")
    assert "(float32)" in panel.run_line.text()
    assert "column pass" in panel.run_line.toolTip()
    w = np.array(session.weight)
    w[0, 0, 0, 0] = -2.0  # still rank 1? no matter: the last run describes another kernel
    session.set_weight(w)
    assert panel.run_line.text().startswith("Stale")


def test_two_passes_reuse_the_current_output(make_panel, qtbot):
    """With a fresh result, the run compares against it: a wrong output shows ✗."""
    session = _session(SOBEL_X, "Sobel x")
    results = Results()
    request = results.begin(session, ComputeSettings())
    from convplay.core.results import ComputeOutcome

    wrong = np.zeros((1, 14, 14), np.float32)
    results.set_outcome(results.generation, ComputeOutcome(request, wrong, 0.0, "CPU"))
    panel = make_panel(session, results)
    panel.run_two_passes()
    qtbot.waitUntil(lambda: "✗" in panel.run_line.text(), timeout=20000)
    assert "Output panel" in panel.run_line.toolTip()


def test_transposed_is_refused_with_the_reason(make_panel):
    session = Session(np.zeros((1, 8, 8)), ConvSpec(1, 1, 3, transposed=True), SOBEL_X[None, None])
    panel = make_panel(session)
    assert panel.title.text().startswith("in 0, out 0")
    assert not panel.run_button.isEnabled() and "transposed" in panel.run_reason.text()


def test_properties_summary_line():
    assert properties_summary(SOBEL_X) == "sum 0 · zero mean · antisymmetric in x, symmetric in y · rank 1"
    assert properties_summary(get_preset("gaussian3").weights) == "sum 1 · symmetric in x and y · rank 1"


def test_a_run_of_an_older_kernel_is_dropped(make_panel, qtbot):
    session = _session(SOBEL_X, "Sobel x")
    panel = make_panel(session)
    panel.run_two_passes()
    w = np.array(session.weight)
    w[0, 0] = -w[0, 0]  # edited before the answer can arrive (it comes through the event loop)
    session.set_weight(w)
    qtbot.waitUntil(lambda: not panel._worker.busy, timeout=20000)
    qtbot.wait(20)
    assert not panel.run_line.isVisible()  # nothing claims to describe the new kernel
    assert panel.run_button.isEnabled()


def test_the_kernel_panel_shows_the_numbers_line(qtbot):
    from convplay.qt.panels.kernel_panel import KernelPanel

    session = _session(SOBEL_X, "Sobel x")
    panel = KernelPanel(session, None)
    qtbot.addWidget(panel)
    panel.resize(330, 600)
    panel.show()
    full = "sum 0 · zero mean · antisymmetric in x, symmetric in y · rank 1"
    assert panel.properties_line.toolTip().startswith(full)
    assert panel.properties_line.text().startswith("sum 0 · zero mean")
    w = np.array(session.weight)
    w[0, 0] = LAPLACIAN
    session.set_weight(w)
    assert "rank 2" in panel.properties_line.toolTip()


def test_a_run_pytorch_refuses_says_why(make_panel, qtbot):
    settings = ComputeSettings()
    session = _session(SOBEL_X, "Sobel x")
    panel = make_panel(session, Results(), settings)
    settings.set_dtype("float16")  # CUDA only
    panel.run_two_passes()
    qtbot.waitUntil(lambda: panel.run_line.text().startswith("Could not run as two passes"), timeout=20000)
    assert "float16" in panel.run_line.text()


@pytest.mark.parametrize("name", ["sobel", "gabor", "laplacian"])
def test_the_panel_stays_narrow(make_panel, name):
    from convplay.core import parametric_kernels

    kernel = {
        "sobel": SOBEL_X,
        "gabor": parametric_kernels.make("gabor", size=15, theta=45, **{"lambda": 6}),
        "laplacian": parametric_kernels.make("laplacian", alpha=0.2),
    }[name]
    panel = make_panel(_session(np.asarray(kernel, float), "a kernel with a rather long name, 15×15"))
    panel.resize(250, 900)
    assert panel.minimumSizeHint().width() <= 260
    for key in ("sum", "l1", "min", "max"):  # numbers are short; the full one is in the tooltip
        digits = panel.values[key].text().replace("−", "").replace(".", "").split("e")[0]
        assert len(digits) <= 6, panel.values[key].text()
    assert all(label.wordWrap() for label in panel.values.values())


def test_a_rounding_sum_shows_zero_with_the_raw_value_in_the_tooltip(make_panel):
    kernel = np.array([[0.1, 0.2, 0.1], [0.2, -1.2, 0.2], [0.1, 0.2, 0.1]])
    assert kernel.sum() != 0.0  # numpy's float sum leaves a crumb
    panel = make_panel(_session(kernel, "Laplacian"))
    assert panel.values["sum"].text() == "0"
    assert panel.values["zero_mean"].text() == "yes"
    assert "0 (to rounding)" in panel.values["sum"].toolTip()
    assert repr(float(kernel.sum())) in panel.values["sum"].toolTip()
    assert properties_summary(kernel).startswith("sum 0 ·")


def test_long_values_are_shortened_and_kept_in_the_tooltip(make_panel):
    kernel = np.array([[0.0905482123, 0.2], [0.3, 0.4]])
    panel = make_panel(_session(kernel, "k"))
    assert panel.values["min"].text() == "0.090548"
    assert repr(0.0905482123) in panel.values["min"].toolTip()


def test_one_by_k_kernels_save_nothing(make_panel):
    panel = make_panel(_session(np.full((1, 3), 1 / 3), "box 1×3"))
    assert "no saving" in panel.cost_line.text()
    assert panel.layer_share.text().startswith("no saving")
    assert "save nothing" in panel.run_reason.text() and "same output" in panel.run_reason.text()
    panel = make_panel(_session(np.ones((1, 1)), "1×1"))
    assert "no saving" in panel.cost_line.text()


def test_the_share_says_what_it_is_a_share_of(make_panel):
    panel = make_panel(_session(SOBEL_X, "Sobel x"))
    two_d, passes = 14 * 14 * 9, 14 * 16 * 3 + 14 * 14 * 3
    assert panel.layer_share.text() == f"= {100 * passes / two_d:.0f} % of one 2-D pass"
    assert not panel.run_reason.isVisible()


def test_a_single_pair_is_named_as_the_kernel(make_panel):
    panel = make_panel(_session(LAPLACIAN, "Laplacian"))
    assert panel.run_reason.text().startswith("This kernel is not a column times a row (rank 2)")
    panel = make_panel(_session(LAPLACIAN, "Laplacian", out_channels=2))
    assert panel.run_reason.text().startswith("Not every pair")


def test_a_smooth_large_kernel_shows_its_effective_rank(make_panel):
    from convplay.core import parametric_kernels

    kernel = parametric_kernels.make("gabor", size=15, theta=45, **{"lambda": 6})
    s = np.linalg.svd(kernel, compute_uv=False)
    exact = int((s > 1e-10 * s[0]).sum())
    effective = int((s > 0.01 * s[0]).sum())
    assert effective < exact
    panel = make_panel(_session(np.asarray(kernel), "Gabor"))
    assert f"rank {exact}; effectively {effective}" in panel.rank_line.text()


def test_non_integer_factors_are_balanced(make_panel):
    # a zero-mean rank-1 kernel: [1, 0.5, -2]ᵀ · [0.3, -0.1, 0.05] (numpy's outer product)
    kernel = np.outer([1.0, 0.5, -2.0], [0.3, -0.1, 0.05]) * 7.3
    panel = make_panel(_session(kernel, "k"))
    col, row = panel.col_grid.values(), panel.row_grid.values()
    assert np.allclose(col @ row, kernel)
    assert np.linalg.norm(col) == pytest.approx(np.linalg.norm(row), rel=1e-3)
    s = np.linalg.svd(kernel, compute_uv=False)
    assert np.linalg.norm(col) == pytest.approx(np.sqrt(s[0]), rel=1e-3)


def test_factor_grids_are_sized_again_after_a_text_zoom(make_panel, qtbot):
    from convplay.core import parametric_kernels
    from convplay.qt.zoom import text_zoom

    kernel = parametric_kernels.make("gabor", size=15, theta=45, **{"lambda": 6})
    panel = make_panel(_session(np.asarray(kernel), "Gabor"))
    grid = panel.col_grid
    text_zoom().set_factor(1.5)

    def every_row_shown():
        return grid.height() >= sum(grid.rowHeight(r) for r in range(grid.rowCount()))

    qtbot.waitUntil(every_row_shown)
    assert grid.rowHeight(0) > 0
    text_zoom().set_factor(1.0)
    qtbot.waitUntil(every_row_shown)
