"""Every bundled preset opens in the editor without errors, is drawn whole, and is
photographed (the pictures land in the test's temporary folder)."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.graph.presets import preset_names

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    import os
    scratch = tmp_path_factory.mktemp("profile")
    saved = {k: os.environ.get(k) for k in ("DESIGNER_SETTINGS", "DESIGNER_DATA_DIR")}
    os.environ["DESIGNER_SETTINGS"] = str(scratch / "settings.ini")
    os.environ["DESIGNER_DATA_DIR"] = str(scratch / "data")
    from designer.ui import theme
    from designer.ui.main_window import MainWindow
    theme.apply(qapp, dark=False)
    w = MainWindow(remember=False)
    w.show()
    yield w
    w.autosave.stop()
    w.scene.detach()
    w.close()
    w.deleteLater()
    QApplication.processEvents()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_there_are_presets():
    assert "lenet5" in preset_names()


@pytest.mark.parametrize("name", preset_names())
def test_preset_opens_without_errors_and_is_photographed(window, name, tmp_path, monkeypatch):
    from designer.ui.app import save_window_picture
    problems = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: problems.append(a[2]))
    assert window.open_source(name, ask=False), problems
    c = window.controller
    c.refresh_analysis()
    assert c.analysis.errors == []
    assert set(window.scene.nodes) == set(c.graph.nodes)
    assert set(window.scene.edges) == set(c.graph.edges)
    # every card carries its output shape, every link its tensor's
    for node_id, item in window.scene.nodes.items():
        if c.graph.nodes[node_id].type != "Output":
            assert item._text["shape"], node_id
    assert all(item.text for item in window.scene.edges.values())
    # a template is laid out so no two cards overlap
    rects = [item.sceneBoundingRect() for item in window.scene.nodes.values()]
    overlaps = [(i, j) for i in range(len(rects)) for j in range(i) if rects[i].intersects(rects[j])]
    assert not overlaps
    window.view.fit()
    path = tmp_path / f"{name}.png"
    save_window_picture(window, path)
    image = QImage(str(path))
    assert image.width() >= 1000 and image.height() >= 600
