"""The built-in models parse to the stacks their code builds, and the digits' test images
are the split the shipped weights were tested on."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from convplay.core.builtin_stacks import (
    BUILTIN_STACKS,
    CIFAR10_CLASSES,
    DIGITS_TEST,
    builtin_info,
    builtin_stack,
    digit_example,
    digits_examples,
)
from convplay.core.layer_trace import trace
from convplay.core.layers import Layer
from convplay.core.resources import resource_path

L = Layer.make


def _layers(key: str) -> list[tuple[str, str]]:
    stack, _ = builtin_stack(key)
    return [(layer.name, layer.code()) for layer in stack.layers]


def test_the_builtins_and_what_they_say_they_are():
    assert list(BUILTIN_STACKS) == ["digits", "cifar10", "mnist"]
    assert builtin_info("digits").title == "The digits CNN (trained, 8×8)"
    assert builtin_info("cifar10").title == "A CIFAR-10 CNN"
    assert builtin_info("mnist").title == "An MNIST CNN with a wrong Linear size"
    for key, info in BUILTIN_STACKS.items():
        stack, same = builtin_stack(key)
        assert same is info and stack.title == info.title and stack.input_shape == info.input_shape
        assert stack.source == info.code and "class " in info.code
        text = (info.title + " " + info.description).lower()
        assert not re.search(r"\bseed\b|tutorial|article", text), key
        assert info.labels is not None and len(info.labels) == 10
    assert builtin_info("cifar10").labels == CIFAR10_CLASSES and CIFAR10_CLASSES[7] == "horse"
    assert builtin_info("digits").labels == tuple("0123456789")
    with pytest.raises(KeyError, match="digits, cifar10, mnist"):
        builtin_info("resnet")


def test_the_digits_stack_is_the_trained_network():
    stack, info = builtin_stack("digits")
    assert info.input_shape == (1, 8, 8) and info.weights_path.name == "digits_cnn.safetensors"
    assert info.weights_path.is_file()
    assert stack.layers == (
        L("Conv2d", 1, 8, 3, padding=1, name="conv1"), L("ReLU"), L("Conv2d", 8, 16, 3, padding=1, name="conv2"),
        L("ReLU"), L("MaxPool2d", 2, name="pool"), L("Flatten"), L("Linear", 256, 10, name="fc"),
    )
    # the shapes of the tensors the weights file was trained with
    record = json.loads(resource_path("kernels", "digits_cnn.json").read_text(encoding="utf-8"))
    assert record["layers"]["conv2.weight"] == [16, 8, 3, 3] and record["layers"]["fc.weight"] == [10, 256]
    assert f"{100 * record['test_accuracy']:.1f} %" in info.description
    traced = trace(stack, info.input_shape)
    assert traced.failed is None and traced.output_shape == (10,)


def test_the_cifar10_stack():
    stack, info = builtin_stack("cifar10")
    assert info.input_shape == (3, 32, 32) and info.weights is None
    assert [name for name, _ in _layers("cifar10")] == [
        "conv1", "act1", "drop1", "conv2", "act2", "pool2", "flat", "fc3", "act3", "drop3", "fc4"]
    assert stack.layers[3] == L("Conv2d", 32, 32, kernel_size=(3, 3), stride=1, padding=1, name="conv2")
    traced = trace(stack, info.input_shape)
    assert traced.failed is None and traced.rows[6].output_shape == (8192,) and traced.output_shape == (10,)


def test_the_mnist_stack_keeps_its_wrong_linear_and_fails_with_the_fix():
    stack, info = builtin_stack("mnist")
    assert "nn.Linear(32 * 12 * 12, 10)" in info.code and "x.view(-1, 32 * 12 * 12)" in info.code
    assert info.input_shape == (1, 28, 28) and info.weights is None
    assert _layers("mnist") == [
        ("conv1", "nn.Conv2d(1, 16, 3)"), ("relu", "nn.ReLU()"), ("pool", "nn.MaxPool2d(2, stride=2)"),
        ("conv2", "nn.Conv2d(16, 32, 3)"), ("relu", "nn.ReLU()"), ("pool", "nn.MaxPool2d(2, stride=2)"),
        ("", "nn.Flatten()"), ("fc", "nn.Linear(4608, 10)"),
    ]
    assert stack.fixed_views == ((6, 4608),)
    traced = trace(stack, info.input_shape)
    assert traced.failed == 7 and traced.rows[6].output_shape == (800,)
    assert "800" in traced.error and "nn.Linear(800, 10)" in traced.error


def test_the_digits_test_images_are_a_plain_npz_of_the_held_out_split():
    with np.load(resource_path(*DIGITS_TEST), allow_pickle=False) as data:
        images, labels, examples = data["images"], data["labels"], data["examples"]
    assert images.shape == (450, 8, 8) and images.dtype == np.uint8 and images.max() == 16
    assert labels.shape == (450,) and set(np.bincount(labels)) <= {43, 44, 45, 46}
    assert [labels[i] for i in examples] == list(range(10))
    scaled, same_labels = digits_examples()
    assert scaled.shape == (450, 1, 8, 8) and scaled.dtype == np.float32 and not scaled.flags.writeable
    np.testing.assert_array_equal(scaled[:, 0] * 16, images)
    np.testing.assert_array_equal(same_labels, labels)


def test_the_test_images_are_the_split_the_weights_were_tested_on():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    assert sklearn
    digits = load_digits()
    _, x_test, _, y_test = train_test_split(
        digits.images, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    images, labels = digits_examples()
    np.testing.assert_array_equal(images[:, 0], (x_test / 16.0).astype(np.float32))
    np.testing.assert_array_equal(labels, y_test)


def test_one_typical_image_per_digit_for_the_canvas():
    images, labels = digits_examples()
    for digit in range(10):
        image = digit_example(digit)
        assert image.shape == (8, 8) and image.dtype == np.float64 and 0 <= image.min() and image.max() <= 1
        matches = np.flatnonzero((images[:, 0] == image.astype(np.float32)).all(axis=(1, 2)))
        assert any(labels[i] == digit for i in matches)
        image[0, 0] = 0.5  # a copy: the shared images stay as they are
    with pytest.raises(ValueError, match="0 to 9"):
        digit_example(10)
