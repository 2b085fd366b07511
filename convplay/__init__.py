"""convplay: a desktop convolution playground checked against PyTorch."""

__version__ = "0.1.0"
