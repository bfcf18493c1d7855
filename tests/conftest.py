import os
import sys
from pathlib import Path

# Qt without a display; set before any test imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never reach for the network from a test.
os.environ.setdefault("DESIGNER_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
