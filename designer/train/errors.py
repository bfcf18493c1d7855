"""The errors the training engine raises on purpose. Each message is one sentence
meant to be shown as it is; none needs a traceback to be understood."""


class TrainSetupError(Exception):
    """Found before the first step: the settings, the dataset or the graph cannot
    make a training run (a bad path, 10 outputs for 2 classes, an unknown setting)."""


class TrainConfigError(TrainSetupError):
    """A training setting with an unknown name or a value out of its range."""


class TrainStepError(Exception):
    """Stops a run that has started: a NaN loss, out of memory. Carries a hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint
