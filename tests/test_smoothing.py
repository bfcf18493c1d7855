"""The loss curve's smoothing (TensorBoard's debiased EMA) without scipy, exact for every weight."""
import subprocess
import sys

import numpy as np
import pytest

from designer.ui.training.plots import smooth


def plain_ema(values, weight):
    out, last = [], 0.0
    for k, x in enumerate(values, start=1):
        last = weight * last + (1 - weight) * x
        out.append(last / (1 - weight ** k))
    return np.array(out)


@pytest.mark.parametrize("weight", [0.01, 0.3, 0.55, 0.6, 0.9, 0.97, 0.99])
@pytest.mark.parametrize("length", [1, 7, 300, 2000])
def test_smoothing_equals_the_recurrence(weight, length):
    values = np.random.default_rng(length).normal(size=length) * 3 + 10
    assert np.allclose(smooth(values, weight), plain_ema(values, weight), rtol=1e-9, atol=1e-9)


def test_no_smoothing_and_empty_input():
    values = np.array([3.0, 1.0, 2.0])
    assert np.array_equal(smooth(values, 0.0), values)
    assert len(smooth(np.array([]), 0.6)) == 0


def test_smoothing_imports_no_scipy():
    code = ("import sys, numpy as np; from designer.ui.training.plots import smooth; "
            "smooth(np.arange(500.0), 0.6); smooth(np.arange(500.0), 0.99); "
            "print('scipy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert done.stdout.strip() == "False", done.stderr
