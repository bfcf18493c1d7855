"""Typed errors of the document model. None of them carries a traceback to the user:
each message is written to be shown as it is."""


class GraphError(Exception):
    """Base of every error the document model raises on purpose."""


class ConnectError(GraphError):
    """An edge the model refuses (orange's Scheme.check_connect)."""


class CycleError(ConnectError):
    pass


class DuplicateInputError(ConnectError):
    pass


class PortError(ConnectError):
    pass


class NetworkMismatchError(ConnectError):
    pass


class ParamError(GraphError):
    """A parameter value that does not fit its declaration."""


class UnknownBlockError(GraphError):
    pass


class ShapeError(GraphError):
    """Raised by a block's shape rule; analysis attaches it to the node."""


class GraphFileError(GraphError):
    """Any problem reading a document file; the message names the place."""
