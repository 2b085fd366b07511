"""The Formula panel: formula and counts follow the session; the copied code runs and gives
the output convplay shows."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from convplay.compute.run import run_conv
from convplay.core.codegen import pytorch_code
from convplay.core.formula import output_size_formula
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.panels.formula_panel import FormulaPanel, notes_html, numeric_html, symbolic_html
from convplay.qt.style import ERROR


@pytest.fixture
def make_panel(qtbot):
    def make(image: np.ndarray, spec: ConvSpec, weight=None, bias=None):
        session = Session(image, spec, weight, bias)
        panel = FormulaPanel(session)
        qtbot.addWidget(panel)
        return panel, session

    return make


def formula_text(panel: FormulaPanel) -> str:
    return panel.formula_view.toPlainText()


def test_seed_000_numbers(make_panel):
    panel, session = make_panel(np.zeros((3, 224, 224)), ConvSpec(3, 64, 3, padding=1, bias=False))
    text = formula_text(panel)
    assert "⌊(224 + 2·1 − 1·(3−1) − 1) / 1⌋ + 1 = 224" in text
    assert "(64, 3, 3, 3)" in text
    assert "1,728 = 64·3·3·3 weights" in text  # seed 000: 3×3×3×64 parameters
    assert "9,633,792 = 224·224·3·64 weights" in text  # the fully connected layer it compares
    assert "3 × 3 input pixels" in text

    session.set_spec(ConvSpec(3, 64, 5, stride=2, padding=2))
    text = formula_text(panel)
    assert "⌊(224 + 2·2 − 1·(5−1) − 1) / 2⌋ + 1 = 112" in text
    assert "the floor drops a remainder of 1" in text
    assert "4,864 = 64·3·5·5 weights + 64 biases" in text
    assert f"{64 * 112 * 112 * 3 * 5 * 5:,} for one image" in text


def test_code_follows_every_change(make_panel):
    panel, session = make_panel(np.ones((1, 5, 5)), ConvSpec(1, 1, 3))
    session.set_weight(np.full((1, 1, 3, 3), 0.125))
    assert "0.125" in panel.code_view.toPlainText()
    session.set_true_convolution(True)
    assert "torch.flip(weight, dims=(2, 3))" in panel.code_view.toPlainText()
    assert "true convolution" in formula_text(panel)
    session.set_spec(session.spec.replace(padding_mode="circular", padding=1))
    expected = pytorch_code(session.spec, session.image, session.weight, session.bias, true_convolution=True)
    assert panel.code_view.toPlainText() == expected.text
    assert "F.pad(x, (1, 1, 1, 1), mode='circular')" in expected.text


CASES = [
    # literals only
    (np.arange(25.0).reshape(1, 5, 5) / 7, ConvSpec(1, 2, 3, padding=1, padding_mode="reflect"), False),
    # input, kernel and bias from .npy files
    (np.linspace(-1, 1, 3 * 20 * 24).reshape(3, 20, 24), ConvSpec(3, 8, (3, 5), stride=2, padding=(1, 2)), True),
    (np.linspace(0, 1, 2 * 6 * 6).reshape(2, 6, 6), ConvSpec(2, 4, 3, stride=2, groups=2, transposed=True,
                                                              output_padding=1), False),
]


@pytest.mark.parametrize("image, spec, true_convolution", CASES)
def test_copied_code_gives_the_output_on_screen(make_panel, tmp_path, monkeypatch, image, spec, true_convolution):
    rng = np.random.default_rng(3)
    panel, session = make_panel(image, spec, rng.standard_normal(spec.weight_shape),
                                rng.standard_normal(spec.out_channels))
    session.set_true_convolution(true_convolution)
    panel.copy_button.click()
    copied = QApplication.clipboard().text()
    assert copied == panel.code_view.toPlainText()
    assert "copied" in panel.status.text()

    assert panel.save_button.isEnabled() == bool(panel.code.arrays)
    written = panel.save_arrays(tmp_path)
    assert sorted(p.name for p in written) == sorted(panel.code.arrays)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(copied, "<copied>", "exec"), namespace)

    # What the window shows: PyTorch through convplay's compute path, float32 on the CPU.
    shown = run_conv(session.spec, session.image, session.effective_weight(), session.bias).output
    y = namespace["y"][0].numpy()
    assert y.shape == shown.shape
    np.testing.assert_allclose(y, shown, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(shown).max())))


def test_refused_settings_render_with_their_reason_and_raise_nothing(make_panel):
    panel, session = make_panel(np.zeros((3, 8, 8)), ConvSpec(3, 4, 3))
    session.set_spec(session.spec.replace(groups=2))
    text = formula_text(panel)
    assert "✗" in text
    assert text.count("in_channels must be divisible by groups") == 1  # once, not per axis
    assert "PyTorch refuses these settings" in panel.code_view.toPlainText()
    assert not panel.save_button.isEnabled()

    session.set_spec(ConvSpec(3, 4, 9))  # kernel larger than the 8×8 input: per-axis reasons
    text = formula_text(panel)
    assert "on the height axis" in text and "on the width axis" in text
    assert "multiply-adds\n—" in text  # no output, no cost

    session.set_spec(ConvSpec(3, 4, 3))
    assert "✗" not in formula_text(panel)


def test_refused_groups_show_the_weight_shape_undefined_and_why(make_panel):
    panel, session = make_panel(np.zeros((1, 6, 6)), ConvSpec(1, 2, 3))
    assert "(2, 1, 3, 3)" in formula_text(panel)
    session.set_spec(session.spec.replace(groups=2))  # 1 input channel in 2 groups
    text = formula_text(panel)
    assert "weight shape\nundefined: 1 input channel can't be split into 2 equal groups (1 / 2 is not a whole number)" in text
    assert "(2, 0, 3, 3)" not in text and ", 0, " not in text
    assert "parameters\n—" in text
    assert f"color:{ERROR};\">undefined</span>" in panel.formula_view.toHtml()  # in the error's red
    session.set_spec(session.spec.replace(groups=1))
    assert "(2, 1, 3, 3)" in formula_text(panel) and "undefined" not in formula_text(panel)


def test_formula_lines_get_subscripts_a_bold_result_and_red_refusals():
    h, _ = output_size_formula(ConvSpec(kernel_size=4, padding="same"), (1, 28, 28))
    assert numeric_html(h) == "H<sub>out</sub> = ⌊(28 + 1 + 2 − 1·(4−1) − 1) / 1⌋ + 1 = <b>28</b>"
    assert "pad<sub>top</sub> + pad<sub>bottom</sub>" in symbolic_html(h)
    assert "<i>d</i>·(<i>k</i>−1)" in symbolic_html(h)
    assert notes_html(h) == []
    _, w = output_size_formula(ConvSpec(kernel_size=(3, 9)), (1, 8, 6))
    assert "<b>" not in numeric_html(w) and numeric_html(w).startswith(f"<span style='color:{ERROR}'>")
    (reason,) = notes_html(w)
    assert ERROR in reason and "can&#x27;t" in reason  # the reason is escaped, not raw markup
    h, _ = output_size_formula(ConvSpec(3, 64, 5, stride=2, padding=2), (3, 224, 224))
    assert notes_html(h) == ["<small>the floor drops a remainder of 1: the last 1 row of the padded input is "
                             "never under the kernel (only padding: no input is lost)</small>"]
    t, _ = output_size_formula(ConvSpec(transposed=True, stride=2, output_padding=1), (1, 4, 4))
    assert "output_padding" in symbolic_html(t)


def test_saved_arrays_load_without_pickle(make_panel, tmp_path):
    panel, _ = make_panel(np.ones((3, 32, 32)), ConvSpec(3, 16, 3))
    for path in panel.save_arrays(tmp_path):
        np.load(path, allow_pickle=False)
    assert sorted(os.listdir(tmp_path)) == ["bias.npy", "input.npy", "weight.npy"]


def test_every_control_has_a_tooltip(make_panel):
    panel, _ = make_panel(np.zeros((1, 8, 8)), ConvSpec())
    for widget in (panel.formula_view, panel.code_view, panel.copy_button, panel.save_button):
        assert widget.toolTip()


def test_a_deleted_panel_stops_listening(qtbot):
    session = Session(np.zeros((1, 8, 8)))
    panel = FormulaPanel(session)
    panel.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    session.set_spec(session.spec.replace(stride=2))
    session.set_image(np.zeros((1, 9, 9)))


def test_the_text_zoom_scales_the_formula_and_the_code(make_panel):
    from convplay.qt.panels.formula_panel import CODE_POINT_SIZE, FORMULA_POINT_SIZE
    from convplay.qt.zoom import text_zoom

    panel, _ = make_panel(np.zeros((1, 8, 8)), ConvSpec(1, 1, 3))
    try:
        text_zoom().set_factor(2.0)
        assert panel.formula_view.document().defaultFont().pointSize() == 2 * FORMULA_POINT_SIZE
        assert panel.code_view.font().pointSize() == 2 * CODE_POINT_SIZE
        assert "⌊(8 + 2·0 − 1·(3−1) − 1) / 1⌋ + 1 = 6" in formula_text(panel)  # set again, not lost
    finally:
        text_zoom().reset()
    assert panel.formula_view.document().defaultFont().pointSize() == FORMULA_POINT_SIZE


def test_the_formula_takes_the_height_its_lines_need(make_panel, qtbot):
    panel, session = make_panel(np.zeros((1, 64, 64)), ConvSpec(1, 1, 3))
    panel.resize(900, 700)
    panel.show()
    qtbot.waitUntil(lambda: panel.formula_view.verticalScrollBar().maximum() == 0 and panel.formula_view.height() > 60)
    # not much more than it needs: the code gets the rest
    assert panel.formula_view.height() <= panel.formula_height() + 8
    session.set_spec(session.spec.replace(stride=3, padding=1))  # a remainder note: more lines
    qtbot.waitUntil(lambda: panel.formula_view.verticalScrollBar().maximum() == 0)
    panel.splitter.splitterMoved.emit(100, 1)  # the user's own split stays
    panel.splitter.setSizes([100, 600])
    panel.resize(900, 720)
    qtbot.wait(20)
    assert panel.splitter.sizes()[0] == 100


def test_the_code_can_be_for_opencv_or_scipy_and_gives_pytorchs_output(make_panel, qtbot):
    pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(8)
    spec = ConvSpec(in_channels=2, out_channels=2, kernel_size=4, padding="same", groups=2,
                    padding_mode="reflect")
    panel, session = make_panel(rng.random((2, 7, 9)), spec, rng.standard_normal(spec.weight_shape),
                                rng.standard_normal(2))
    shown = run_conv(session.spec, session.image, session.effective_weight(), session.bias).output
    libraries = ["scipy"] + (["opencv"] if _imports("cv2") else [])
    for library in libraries:
        panel.library_combo.setCurrentIndex(panel.library_combo.findData(library))
        text = panel.code_view.toPlainText()
        assert text == panel.code.text
        assert ("cv2.filter2D" if library == "opencv" else "ndimage.correlate") in text
        assert "scipy" in panel.code_view.toolTip() or "OpenCV" in panel.code_view.toolTip()
        panel.copy_button.click()
        namespace: dict = {}
        exec(compile(QApplication.clipboard().text(), "<copied>", "exec"), namespace)
        assert namespace["y"].shape == shown.shape[-3:]
        np.testing.assert_allclose(namespace["y"], shown.reshape(namespace["y"].shape), atol=1e-5)
    # the choice follows every session change, and PyTorch's code is back on request
    session.set_spec(spec.replace(padding_mode="replicate"))
    assert "'nearest'" in panel.code_view.toPlainText() or "BORDER_REPLICATE" in panel.code_view.toPlainText()
    panel.set_library("pytorch")
    assert "nn.Conv2d(" in panel.code_view.toPlainText()
    assert panel.library_combo.toolTip()


def test_a_transposed_convolution_is_not_translated(make_panel):
    spec = ConvSpec(kernel_size=3, stride=2, transposed=True)
    panel, _ = make_panel(np.zeros((1, 5, 5)), spec)
    panel.set_library("scipy")
    assert "no faithful" in panel.code_view.toPlainText()


def _imports(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True
