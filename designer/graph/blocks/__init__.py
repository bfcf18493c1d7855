"""The block catalog: importing this package registers every built-in block."""
from . import io, convolution, pooling, dense, activation, normalization, merge  # noqa: F401
from .. import composite  # noqa: F401  (Inception, Residual)
