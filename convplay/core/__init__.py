"""The convolution model, its formulas and the reference walk: numpy only, no Qt, no torch."""

from convplay.core.conv_matrix import MatrixTooLarge, conv_matrix, im2col
from convplay.core.formula import AxisFormula, output_size_formula
from convplay.core.padding import PaddedAxis, PaddedGeometry, padded_geometry
from convplay.core.reference import conv2d_reference
from convplay.core.spec import PADDING_MODES, ConvSpec, ConvSpecError
from convplay.core.transposed_views import four_views
from convplay.core.walk import ConvWalk, Stamp, Step, Taps

__all__ = [
    "ConvSpec",
    "ConvSpecError",
    "PADDING_MODES",
    "AxisFormula",
    "output_size_formula",
    "conv2d_reference",
    "ConvWalk",
    "Step",
    "Taps",
    "Stamp",
    "PaddedAxis",
    "PaddedGeometry",
    "padded_geometry",
    "conv_matrix",
    "im2col",
    "MatrixTooLarge",
    "four_views",
]
