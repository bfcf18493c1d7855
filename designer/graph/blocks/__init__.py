"""The block catalog: importing this package registers every built-in block."""
from . import io, convolution, pooling, dense, activation, normalization, merge  # noqa: F401
from . import tensor_ops, layer_norms, attention, generic  # noqa: F401  (what imported networks are made of)
from .. import composite  # noqa: F401  (Inception, Residual)
