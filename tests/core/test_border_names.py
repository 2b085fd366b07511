"""Each border's name in each tool means that border: [1 2 3 4 5] padded by 2 with every
named mode, in the libraries themselves (PyTorch's F.pad, np.pad, scipy.ndimage, cv2)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplay.core import border_names
from convplay.core.border_names import (
    BORDERS,
    SYMMETRIC,
    border,
    elsewhere_line,
    symmetric_tooltip,
    tooltip,
)
from convplay.core.spec import PADDING_MODES

ROW = np.array([1.0, 2, 3, 4, 5])


def picture(b) -> list[float]:
    return [float(v) for v in b.picture.replace("|", " ").split()]


def scipy_padded(mode: str) -> list[float]:
    """The row as scipy.ndimage extends it by 2: correlating with a shifted unit tap reads
    the extension (origin 0, 5 taps: tap t reads x[i + t - 2])."""
    ndimage = pytest.importorskip("scipy.ndimage")

    def shifted(t: int) -> np.ndarray:
        taps = np.zeros(5)
        taps[t] = 1
        return ndimage.correlate1d(ROW, taps, mode=mode, cval=0.0)

    return [shifted(0)[0], shifted(1)[0], *ROW, shifted(3)[4], shifted(4)[4]]


@pytest.mark.parametrize("b", BORDERS, ids=lambda b: b.key)
def test_numpy_name(b):
    assert np.pad(ROW, 2, mode=b.numpy).tolist() == picture(b)


@pytest.mark.parametrize("b", BORDERS, ids=lambda b: b.key)
def test_scipy_name(b):
    assert scipy_padded(b.scipy) == picture(b)


@pytest.mark.parametrize("b", BORDERS, ids=lambda b: b.key)
def test_opencv_name(b):
    cv2 = pytest.importorskip("cv2")
    padded = cv2.copyMakeBorder(ROW[None].astype(np.float32), 0, 0, 2, 2, getattr(cv2, b.opencv), value=0)
    assert padded.ravel().tolist() == picture(b)


@pytest.mark.parametrize("b", BORDERS, ids=lambda b: b.key)
def test_pytorch_name(b):
    if b.pytorch is None:
        pytest.skip("no padding_mode gives it")
    mode = "constant" if b.pytorch == "zeros" else b.pytorch  # F.pad's name for zeros
    assert F.pad(torch.tensor(ROW)[None, None], (2, 2), mode=mode).ravel().tolist() == picture(b)


def test_opencv_default_is_pytorch_reflect():
    cv2 = pytest.importorskip("cv2")
    assert cv2.BORDER_DEFAULT == cv2.BORDER_REFLECT_101
    assert border("reflect").opencv == "BORDER_REFLECT_101"


def test_scipy_reflect_is_not_pytorch_reflect():
    """The trap the tooltip warns of, run."""
    torch_reflect = F.pad(torch.tensor(ROW)[None, None], (2, 2), mode="reflect").ravel().tolist()
    assert scipy_padded("reflect") != torch_reflect
    assert scipy_padded("mirror") == torch_reflect
    assert "'reflect' is NOT PyTorch's 'reflect'" in tooltip("reflect")


def test_symmetric_has_no_padding_mode_and_the_way_round_works():
    assert SYMMETRIC.pytorch is None
    assert all(b.pytorch != "symmetric" for b in BORDERS)
    assert "symmetric" not in PADDING_MODES
    with pytest.raises((NotImplementedError, RuntimeError, ValueError)):
        F.pad(torch.tensor(ROW)[None, None], (2, 2), mode="symmetric")
    # the way round the tooltip gives: pad by hand, then convolve with padding=0
    text = symmetric_tooltip()
    assert "np.pad(x, ((0, 0), (p, p), (p, p)), mode='symmetric')" in text and "padding=0" in text
    x = np.arange(12.0).reshape(1, 3, 4)
    padded = torch.tensor(np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="symmetric"))[None]
    out = F.conv2d(padded, torch.ones(1, 1, 3, 3, dtype=torch.float64), padding=0)[0]
    assert out.shape == (1, 3, 4)
    assert out[0, 0, 0].item() == pytest.approx(np.pad(x[0], 1, mode="symmetric")[:3, :3].sum())


def test_every_padding_mode_has_its_names():
    for mode in PADDING_MODES:
        b = border(mode)
        assert b.pytorch == mode
        line = elsewhere_line(mode)
        assert line.startswith("= OpenCV ") and b.opencv in line and f"{b.scipy}'" in line
        assert len(line) <= 64, line  # one short line under the control
        tip = tooltip(mode)
        assert b.picture in tip and b.opencv in tip and b.numpy in tip
    assert "BORDER_CONSTANT (0)" in elsewhere_line("zeros") and "value 0" in tooltip("zeros")
    assert elsewhere_line("reflect") == "= OpenCV BORDER_REFLECT_101, NumPy 'reflect', scipy 'mirror'"
    assert elsewhere_line("nonsense") == "" and tooltip("nonsense") == ""
    assert "MATLAB imfilter: 'replicate'" in tooltip("replicate")
    assert "MATLAB imfilter: no such option" in tooltip("reflect")
    assert len(border_names.SYMMETRIC_NOTE) <= 64
