"""The convolution model, its formulas and the reference walk: numpy only, no Qt, no torch."""

from convplay.core.formula import AxisFormula, output_size_formula
from convplay.core.spec import PADDING_MODES, ConvSpec, ConvSpecError

__all__ = ["ConvSpec", "ConvSpecError", "PADDING_MODES", "AxisFormula", "output_size_formula"]
