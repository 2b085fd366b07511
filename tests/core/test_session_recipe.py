"""A kernel made from parameters stays attached to them only while the weights are what
they make: every other change detaches it; undo brings the attachment back; a session file
keeps it, and a recipe in a file that cannot be used is dropped with a warning."""

from __future__ import annotations

import json

import numpy as np
import pytest

from convplay.core import kernel_recipe as kr
from convplay.core.history import History, push_change
from convplay.core.session import Session
from convplay.core.session_file import document_json, read_document, session_from_state, state_of
from convplay.core.session_file import SessionDocument
from convplay.core.spec import ConvSpec


def made(text: str = "gaussian:size=5,sigma=1.2", channels: int = 1) -> tuple[Session, kr.KernelRecipe]:
    r = kr.parse(text)
    kernel = r.kernels()[0]
    spec = ConvSpec(in_channels=channels, kernel_size=kernel.shape)
    session = Session(np.zeros((channels, 16, 16)), spec, np.broadcast_to(kernel, (1, channels, *kernel.shape)).copy(),
                      kernel_name=r.name, kernel_recipe=r)
    return session, r


def test_attached_until_a_cell_is_edited():
    session, r = made()
    assert session.kernel_recipe == r
    w = np.array(session.weight)
    w[0, 0, 0, 0] += 0.5
    session.set_weight(w)
    assert session.kernel_recipe is None
    assert session.kernel_name == r.name + ", edited"


@pytest.mark.parametrize("change", [
    lambda s: s.set_spec(s.spec.replace(kernel_size=3)),
    lambda s: s.set_spec(s.spec.replace(out_channels=2)),
    lambda s: s.set_kernel(s.spec, np.array(s.weight), name="Sobel x"),
])
def test_every_other_weight_change_detaches(change):
    session, _ = made()
    change(session)
    assert session.kernel_recipe is None


@pytest.mark.parametrize("change", [
    lambda s: s.set_spec(s.spec.replace(stride=2)),
    lambda s: s.set_true_convolution(True),
    lambda s: s.set_bias(np.array([0.25])),
    lambda s: s.set_image(np.ones((1, 12, 12))),
])
def test_changes_that_leave_the_weights_keep_it(change):
    session, r = made()
    change(session)
    assert session.kernel_recipe == r


def test_undo_brings_the_recipe_back_and_redo_detaches_again():
    session, r = made()
    history = History()
    w = np.array(session.weight)
    w[0, 0, 2, 2] = 9.0
    push_change(history, session, "Edit weight", lambda: session.set_weight(w))
    assert session.kernel_recipe is None
    history.undo()
    assert session.kernel_recipe == r
    history.redo()
    assert session.kernel_recipe is None


def test_a_recipe_set_with_the_weights_attaches_them():
    session, _ = made()
    r2 = kr.parse("gaussian:size=5,sigma=2")
    session.set_weight(r2.kernels()[0][None, None], name=r2.name, recipe=r2)
    assert session.kernel_recipe == r2 and session.kernel_name == r2.name


def test_a_session_file_keeps_the_recipe():
    session, r = made("gabor:theta=30,lambda=5,normalise=zero_mean")
    text = document_json(SessionDocument(kind="session", state=state_of(session)))
    assert json.loads(text)["state"]["kernel_recipe"] == {
        "family": "gabor", "normalisation": "zero_mean",
        "parameters": {"size": 9, "theta": 30.0, "lambda": 5.0, "sigma": 2.0, "gamma": 0.5, "psi": 0.0},
    }
    doc, warnings = read_document(text.encode())
    assert warnings == []
    again = session_from_state(doc.state)
    assert again.kernel_recipe == r
    np.testing.assert_array_equal(again.weight, session.weight)


@pytest.mark.parametrize("recipe, words", [
    ({"family": "nope", "parameters": {}}, "unknown kernel family"),
    ({"family": "gaussian", "parameters": {"sigma": -1}}, "sigma"),
    ({"family": "gaussian", "parameters": {"size": 3}}, "makes a 3×3 kernel"),
    ("gaussian", "an object"),
])
def test_an_unusable_recipe_in_a_file_is_dropped_with_a_warning(recipe, words):
    session, _ = made()
    d = json.loads(document_json(SessionDocument(kind="session", state=state_of(session))))
    d["state"]["kernel_recipe"] = recipe
    doc, warnings = read_document(json.dumps(d).encode())
    assert doc.state.snapshot.kernel_recipe is None
    assert any("kernel_recipe ignored" in w and words in w for w in warnings), warnings
    np.testing.assert_array_equal(doc.state.snapshot.weight, session.weight)  # the weights stay


@pytest.mark.parametrize("c_in, c_out, groups", [(1, 2, 1), (3, 2, 1), (4, 6, 2), (3, 3, 3)])
def test_turning_transposed_keeps_every_filter_between_the_same_channels(c_in, c_out, groups):
    """The kernel that joins input channel i to output channel o stays that pair's kernel:
    torch shows it as what a one-pixel impulse in channel i gives in channel o (conv2d's
    response is the kernel turned 180°, conv_transpose2d's stamp is the kernel itself)."""
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(1)
    spec = ConvSpec(in_channels=c_in, out_channels=c_out, kernel_size=3, groups=groups, bias=False)
    weight = rng.normal(size=(c_out, c_in // groups, 3, 3))
    session = Session(np.zeros((c_in, 9, 9)), spec, weight, kernel_name="mine")
    session.set_spec(spec.replace(transposed=True))
    turned = torch.from_numpy(np.array(session.weight))
    assert tuple(turned.shape) == (c_in, c_out // groups, 3, 3) and session.kernel_name == "mine"
    for i in range(c_in):
        impulse = torch.zeros(1, c_in, 9, 9, dtype=torch.float64)
        impulse[0, i, 4, 4] = 1.0
        direct = F.conv2d(impulse, torch.from_numpy(weight), groups=groups)[0, :, 2:5, 2:5]
        stamped = F.conv_transpose2d(impulse, turned, groups=groups)[0, :, 4:7, 4:7]
        torch.testing.assert_close(direct, stamped.flip(-1, -2))
    session.set_spec(spec)
    np.testing.assert_array_equal(session.weight, weight)  # and back


def test_a_pair_made_transposed_keeps_gx_and_gy_and_its_recipe():
    session, _ = made("sobel_pair")
    spec, weight = kr.pair_layer(session.spec, kr.parse("sobel_pair").kernels())
    r = kr.parse("sobel_pair")
    session.set_kernel(spec, weight, name=r.name, recipe=r)
    session.set_spec(session.spec.replace(transposed=True))
    assert session.kernel_recipe == r
    np.testing.assert_array_equal(session.weight[0, 0], weight[0, 0])
    np.testing.assert_array_equal(session.weight[0, 1], weight[1, 0])
