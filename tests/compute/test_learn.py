"""Learning a kernel by gradient descent (seed 001's experiment)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplay.compute.learn import KernelLearner, hidden_kernel_target, random_kernel, seed001_example


@pytest.mark.parametrize("optimiser, lr", [("sgd", 1e-3), ("adam", 0.05)])
def test_seed001_learns_a_vertical_edge(optimiser, lr):
    x, y = seed001_example()
    learner = KernelLearner(x, y, np.zeros((3, 3)), optimiser, lr)
    steps = list(learner.run(400, chunk=50))
    assert [s.step for s in steps] == list(range(50, 401, 50))
    assert steps[-1].loss < 1e-3 and steps[-1].loss < steps[0].loss
    k = steps[-1].kernel[0, 0]
    # Every row of the input is the same, so only column sums are determined: 3, 0, -3.
    np.testing.assert_allclose(k, [[1, 0, -1]] * 3, atol=1e-4)
    np.testing.assert_allclose(steps[-1].output[0], y[0], atol=1e-3)


def test_seed001_from_random_start_finds_the_same_column_sums():
    x, y = seed001_example()
    learner = KernelLearner(x, y, random_kernel((1, 1, 3, 3), seed=1), "sgd", 1e-3)
    last = list(learner.run(400, chunk=400))[-1]
    assert last.loss < 1e-3
    np.testing.assert_allclose(last.kernel[0, 0].sum(axis=0), [3, 0, -3], atol=1e-4)


def test_matches_torch_training_loop():
    x, y = seed001_example()
    w0 = random_kernel((1, 1, 3, 3), seed=2)
    learner = KernelLearner(x, y, w0, "sgd", 1e-3)
    last = list(learner.run(25, chunk=7))[-1]
    conv = torch.nn.Conv2d(1, 1, 3, bias=False).double()
    conv.weight.data[:] = torch.from_numpy(w0)
    X, Y = torch.from_numpy(x)[None], torch.from_numpy(y)[None]
    for _ in range(25):  # seed 001's loop
        loss = F.mse_loss(conv(X), Y)
        conv.zero_grad()
        loss.backward()
        conv.weight.data[:] -= 1e-3 * conv.weight.grad
    np.testing.assert_allclose(last.kernel, conv.weight.detach().numpy(), rtol=1e-12)
    assert last.step == 25


def test_stop_and_resume():
    x, y = seed001_example()
    learner = KernelLearner(x, y, np.zeros((3, 3)), "sgd", 1e-3)
    seen = []
    for s in learner.run(400, chunk=10):
        seen.append(s.step)
        if s.step == 30:
            learner.stop()
    assert seen == [10, 20, 30]
    rest = list(learner.run(370, chunk=100))
    assert [s.step for s in rest] == [130, 230, 330, 400] and rest[-1].loss < 1e-3


def test_hidden_kernel_multichannel():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(3, 12, 12))
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float)
    target = hidden_kernel_target(image, sobel)
    assert target.shape == (1, 10, 10)
    learner = KernelLearner(image, target, np.zeros((1, 3, 3, 3)), "adam", 0.05)
    last = list(learner.run(600, chunk=200))[-1]
    assert last.loss < 1e-3
    np.testing.assert_allclose(last.kernel.sum(axis=1)[0], sobel, atol=0.05)


@pytest.mark.parametrize(
    "kwargs, words",
    [({"target": np.zeros((3, 3))}, "target is"), ({"optimiser": "rmsprop"}, "optimiser"),
     ({"lr": -1.0}, "learning rate"), ({"initial": np.zeros((1, 2, 3, 3))}, "does not fit")],
)
def test_bad_settings_say_why(kwargs, words):
    x, y = seed001_example()
    args = {"image": x, "target": y, "initial": np.zeros((3, 3)), **kwargs}
    with pytest.raises(ValueError, match=words):
        KernelLearner(**args)


def test_run_restores_the_thread_count():
    before = torch.get_num_threads()
    x, y = seed001_example()
    list(KernelLearner(x, y, np.zeros((3, 3))).run(20, chunk=10))
    assert torch.get_num_threads() == before
