"""Input panel: drawing, files, samples, size, channels, typed values, errors, undo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from convplay.core.history import History
from convplay.core.image_io import ImageLoadError
from convplay.core.samples import sample
from convplay.core.session import Session
from convplay.qt.widgets.canvas import ERASER
from convplay.qt.panels.input_panel import PICTURE_TAB, VALUES_TAB, InputPanel


@pytest.fixture
def setup(qtbot):
    session = Session(np.zeros((1, 32, 32)))
    stack = History()
    panel = InputPanel(session, stack)
    qtbot.addWidget(panel)
    panel.resize(420, 640)
    panel.show()
    qtbot.waitExposed(panel)
    return session, stack, panel


def _save_formats(tmp_path):
    rows, cols = np.mgrid[0:20, 0:30]
    rgb = np.stack([rows * 12, cols * 8, np.full_like(rows, 90)], -1).astype(np.uint8)
    paths = {}
    for suffix in ("png", "jpg", "bmp", "tif", "webp"):
        paths[suffix] = tmp_path / f"img.{suffix}"
        Image.fromarray(rgb).save(paths[suffix])
    paths["png16"] = tmp_path / "deep.png"
    Image.fromarray((rows * 3000 + cols).astype(np.uint16)).save(paths["png16"])
    return paths


def test_each_format_opens_into_the_session(setup, tmp_path):
    session, stack, panel = setup
    panel.size_spin.setValue(30)
    for key, path in _save_formats(tmp_path).items():
        assert panel.open_image(path) == "", key
        expected_c = 1 if key == "png16" else 3
        assert session.image.shape == (expected_c, 20, 30), key
        assert session.spec.in_channels == expected_c
    assert panel.message.isHidden()
    # 16-bit precision kept: neighbouring columns differ by 1/65535
    assert session.image[0, 0, 1] - session.image[0, 0, 0] == pytest.approx(1 / 65535)


def _bad_files(tmp_path):
    Image.fromarray(np.full((64, 64, 3), 7, np.uint8)).save(tmp_path / "ok.png")
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "random.png").write_bytes(np.random.default_rng(3).bytes(2048))
    Image.new("1", (20000, 20000)).save(tmp_path / "huge.png")
    return [tmp_path / "truncated.png", tmp_path / "random.png", tmp_path / "huge.png"]


def test_bad_files_show_an_error_and_keep_the_image(setup, tmp_path):
    session, stack, panel = setup
    panel.load_sample(sample("tutorial_x"))
    before, count = session.image, stack.count()
    for path in _bad_files(tmp_path):
        reason = panel.open_image(path)
        assert path.name in reason
        assert session.image is before and stack.count() == count
        assert not panel.message.isHidden() and path.name in panel.message.text()
    assert "megapixels" in panel.message.text()
    # a good file afterwards clears the message
    assert panel.open_image(tmp_path / "ok.png") == ""
    assert panel.message.isHidden()


def test_drop_of_a_file_opens_it(setup, tmp_path):
    session, _, panel = setup
    Image.fromarray(np.full((10, 12), 200, np.uint8)).save(tmp_path / "drop.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "drop.png"))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(event)
    assert session.image.shape[0] == 1 and session.image.max() == pytest.approx(200 / 255)


def test_stroke_through_the_canvas_api_is_one_undo_step(setup, qtbot):
    session, stack, panel = setup
    before = session.image
    canvas = panel.canvas
    canvas.brush_size = 1
    canvas.begin_stroke()
    for col in range(2, 20):
        canvas.paint_segment((5.0, col - 1.0), (5.0, float(col)))
    # the output follows during the stroke: the throttled push reaches the session
    qtbot.waitUntil(lambda: session.image is not before and session.image[0, 5, 10] == 1.0)
    canvas.end_stroke()
    assert session.image[0, 5, 1:20].tolist() == [1.0] * 19
    assert session.image[0, 4].sum() == 0 and session.image[0, 6].sum() == 0
    assert stack.count() == 1 and stack.text(0) == "Draw"
    stack.undo()
    np.testing.assert_array_equal(session.image, before)
    np.testing.assert_array_equal(panel.canvas.image, before)
    stack.redo()
    assert session.image[0, 5, 10] == 1.0


def test_mouse_drag_draws(setup, qtbot):
    session, stack, panel = setup
    canvas = panel.canvas
    canvas.brush_size = 3
    view = canvas.view_box

    def widget_point(row, col):
        scene = view.mapViewToScene(QPointF(col, row))
        return canvas.mapFromScene(scene)

    start, end = widget_point(16, 4), widget_point(16, 28)
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    steps = 12
    for n in range(1, steps + 1):
        point = start + (end - start) * n / steps
        qtbot.mouseMove(viewport, pos=QPoint(int(point.x()), int(point.y())))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert stack.count() == 1
    assert session.image[0, 16, 6:26].min() == 1.0
    assert session.image[0, :12].sum() == 0


def test_eraser_writes_zero_and_click_paints_a_dab(setup):
    session, _, panel = setup
    panel.fill(1.0)
    panel.set_tool(ERASER)
    panel.canvas.brush_size = 1
    panel.canvas.begin_stroke()
    panel.canvas.paint_segment((3.0, 3.0), (3.0, 3.0))
    panel.canvas.end_stroke()
    assert session.image[0, 3, 3] == 0 and session.image.sum() == 32 * 32 - 1


def test_clear_fill_invert(setup):
    session, stack, panel = setup
    panel.value_spin.setValue(0.25)
    panel.fill_button.click()
    assert (session.image == 0.25).all()
    panel.invert_button.click()
    assert (session.image == 0.75).all()
    panel.clear_button.click()
    assert not session.image.any()
    assert stack.count() == 3
    stack.undo()
    assert (session.image == 0.75).all()


def test_invert_uses_the_image_range(setup):
    session, _, panel = setup
    panel.load_sample(sample("tutorial_tens"))
    panel.invert()
    assert (session.image[0, :, :3] == 0).all() and (session.image[0, :, 3:] == 10).all()


def test_samples_and_channels(setup):
    session, stack, panel = setup
    panel.size_spin.setValue(64)
    panel.sample_combo.activated.emit(panel.sample_combo.findData("chelsea"))
    assert session.image.shape == (3, 43, 64) and session.spec.in_channels == 3
    assert panel.channels_combo.currentData() == 3
    panel.channels_combo.setCurrentIndex(panel.channels_combo.findData(1))
    panel.channels_combo.activated.emit(panel.channels_combo.currentIndex())
    assert session.image.shape == (1, 43, 64) and session.spec.in_channels == 1
    stack.undo()
    assert session.image.shape[0] == 3 and panel.channels_combo.currentData() == 3


def test_working_size_resamples_from_the_original(setup):
    session, _, panel = setup
    panel.size_spin.setValue(16)
    panel.load_sample(sample("camera"))
    assert session.image.shape == (1, 16, 16)
    panel.size_spin.setValue(200)
    assert session.image.shape == (1, 200, 200)
    # resampled from the loaded photo, not enlarged from the 16 px copy: real detail remains
    assert len(np.unique(session.image)) > 1000
    assert "200 × 200" in panel.size_label.text()


def test_small_inputs_show_values_and_accept_typing(setup):
    session, stack, panel = setup
    panel.load_sample(sample("tutorial_multi_in"))
    assert panel.views.isTabVisible(VALUES_TAB)
    assert panel.views.currentIndex() == PICTURE_TAB  # the picture stays in front, its cells labelled
    assert len(panel.canvas.labels()) == 25 and panel.canvas.labels()[0] == "1/1/2"
    panel.values_channel.setValue(1)
    np.testing.assert_array_equal(panel.values_grid.values(), sample("tutorial_multi_in").image()[1])
    panel.values_grid.item(2, 3).setText("7")
    assert session.image[1, 2, 3] == 7
    assert "7" in panel.canvas.labels()[2 * 5 + 3].split("/")
    panel.values_grid.item(0, 0).setText("nan")
    assert session.image[1, 0, 0] == 1 and "NaN" in panel.message.text()
    panel.views.setCurrentIndex(VALUES_TAB)
    panel.load_sample(sample("camera"))
    assert not panel.views.isTabVisible(VALUES_TAB) and panel.canvas.labels() == []
    assert panel.views.currentIndex() == PICTURE_TAB  # no table for a photo: the picture comes back


def test_model_to_view(setup):
    session, _, panel = setup
    session.set_image(np.full((3, 4, 6), 0.5))
    assert panel.size_label.text().startswith("6 × 4, 3 channels")
    np.testing.assert_array_equal(panel.canvas.image, session.image)
    assert panel.channels_combo.currentData() == 3


def test_render(setup):
    _, _, panel = setup
    panel.load_sample(sample("tutorial_x"))
    image = panel.grab()
    assert not image.isNull() and image.width() >= 400


def test_cell_labels_fit_their_cells(qtbot):
    import numpy as np

    from convplay.core.session import Session
    from convplay.qt.panels.input_panel import InputPanel

    rng = np.random.default_rng(0)
    session = Session(rng.integers(0, 4, (3, 5, 5)).astype(float))
    panel = InputPanel(session, None)
    qtbot.addWidget(panel)
    panel.resize(260, 420)
    panel.show()
    qtbot.waitExposed(panel)
    canvas = panel.image_view
    canvas.view_box.autoRange(padding=0.02)
    (x0, x1), _ = canvas.view_box.viewRange()
    cell_px = canvas.view_box.width() / (x1 - x0)
    from PySide6.QtGui import QFontMetricsF

    shown = [label for label in canvas._labels if label.isVisible()]
    assert len(shown) == 25
    widest = max(QFontMetricsF(label.textItem.font()).horizontalAdvance(label.toPlainText()) for label in shown)
    assert widest <= 0.95 * cell_px  # the text's glyphs stay inside the cell


def _noise_png(tmp_path, size=512):
    path = tmp_path / "noise512.png"
    Image.fromarray((np.random.default_rng(5).random((size, size)) * 255).astype(np.uint8)).save(path)
    return path


def test_undo_of_a_resize_then_a_larger_size_rereads_the_original(setup, tmp_path):
    """Open 512 px at 64, resize to 32, undo, then 512: no 8x8 blocks of the 64 px copy."""
    session, stack, panel = setup
    panel.size_spin.setValue(64)
    assert panel.open_image(_noise_png(tmp_path)) == ""
    assert session.image.shape == (1, 64, 64)
    panel.size_spin.setValue(32)
    assert session.image.shape == (1, 32, 32)
    stack.undo()
    assert session.image.shape == (1, 64, 64) and panel.size_spin.value() == 64
    panel.size_spin.setValue(512)
    tiles = session.image.reshape(1, 64, 8, 64, 8)
    assert not np.all(tiles.max(axis=(2, 4)) == tiles.min(axis=(2, 4)))
    assert len(np.unique(session.image)) > 200


def test_the_size_box_shows_the_sessions_working_size(setup):
    session, _, panel = setup
    assert panel.size_spin.value() == session.working_size == 32
    session.set_working_size(100)
    assert panel.size_spin.value() == 100 and panel.size_spin.text() == "100 px"
    panel.load_sample(sample("tutorial_x"))  # kept at its own 5 x 5: the box says so
    assert session.image.shape == (1, 5, 5)
    assert panel.size_spin.text() == "own size" and "own size" in panel.size_label.text()
    assert "100 px" in panel.size_label.toolTip()
    panel.size_spin.setValue(10)  # a size picked: the matrix is resampled to it
    assert session.image.shape == (1, 10, 10) and panel.size_spin.text() == "10 px"
    panel.size_spin.setValue(8)  # the smallest size reads as a size again
    assert panel.size_spin.text() == "8 px"


def test_a_refused_size_says_why_and_keeps_the_box_true(setup, monkeypatch):
    session, stack, panel = setup
    panel.load_sample(sample("camera"))
    def damaged(*_args, **_kwargs):
        raise ImageLoadError("camera.png is damaged or truncated and could not be decoded.")

    monkeypatch.setattr("convplay.core.samples.load_image", damaged)  # the bundled photo is read again
    panel.size_spin.setValue(48)
    assert "damaged" in panel.message.text()
    assert session.image.shape == (1, 32, 32) and panel.size_spin.value() == 32


def test_channels_undo_and_colour_back_from_the_original(setup):
    session, stack, panel = setup
    panel.size_spin.setValue(64)
    panel.load_sample(sample("chelsea"))
    colour = session.image
    _pick(panel.channels_combo, 1)
    assert session.image.shape[0] == 1
    _pick(panel.channels_combo, 3)
    np.testing.assert_allclose(session.image, colour, atol=1e-6)  # converted from the photo, not the gray copy
    stack.undo()
    stack.undo()
    assert session.image is colour and panel.channels_combo.currentData() == 3


def _pick(combo, data):
    combo.setCurrentIndex(combo.findData(data))
    combo.activated.emit(combo.currentIndex())


def test_open_button_uses_the_shared_last_folder(setup, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog

    from convplay.qt import files

    session, _, panel = setup
    panel.settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    folder = tmp_path / "pictures"
    folder.mkdir()
    Image.fromarray(np.full((10, 12), 9, np.uint8)).save(folder / "a.gif")
    seen = []

    def dialog(parent, title, start, file_filter):
        seen.append((start, file_filter))
        return str(folder / "a.gif"), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialog)
    panel.open_button.click()
    assert session.image.shape[1:] == (27, 32)  # a GIF opens: the one filter lists it
    assert "*.gif" in seen[0][1] and seen[0][1] == files.IMAGE_FILTER
    assert files.last_folder(panel.settings) == str(folder)
    panel.open_button.click()
    assert seen[1][0] == str(folder)


def test_strokes_cost_their_box_in_the_history(setup, qtbot):
    session, stack, panel = setup
    canvas = panel.canvas
    canvas.brush_size = 1
    for row in (3, 9, 20):
        canvas.begin_stroke()
        canvas.paint_segment((float(row), 2.0), (float(row), 6.0))
        canvas.end_stroke()
    assert stack.count() == 3
    assert stack.nbytes == 3 * 2 * 5 * 8  # three 1 x 5 boxes, before and after, float64


def test_the_text_zoom_raises_the_cell_labels_cap(setup, qtbot):
    from convplay.qt.widgets.canvas import LABEL_MAX_PX
    from convplay.qt.zoom import text_zoom

    session, _, panel = setup
    panel.load_sample(sample("tutorial_x"))  # 5 x 5 cells of 1 digit: the cap, not the cell, limits
    qtbot.waitUntil(lambda: panel.canvas.label_pixel_size() == LABEL_MAX_PX)
    try:
        text_zoom().set_factor(1.5)
        assert panel.canvas.label_pixel_size() == round(LABEL_MAX_PX * 1.5)
        assert panel.canvas.labels()  # still shown, inside their cells
    finally:
        text_zoom().reset()
    assert panel.canvas.label_pixel_size() == LABEL_MAX_PX


def test_the_tools_wrap_in_a_narrow_panel_without_widening_it(setup, qtbot):
    session, _, panel = setup
    panel.resize(700, 640)
    qtbot.waitUntil(lambda: panel.tools.flow.lines(panel.tools.width()) == 1)
    panel.resize(260, 640)
    qtbot.waitUntil(lambda: panel.tools.flow.lines(panel.tools.width()) >= 2)
    assert panel.minimumSizeHint().width() <= 260
    qtbot.waitUntil(lambda: panel.tools.height() >= 2 * panel.pen_button.height())  # its lines all shown
