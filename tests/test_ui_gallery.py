"""The preset gallery through its real widgets (every preset listed, search,
double-click and Enter choose, an unreadable file refused on its card, new files
discovered), graph thumbnails, and the two small dialogs of dialogs.py."""
import os
import shutil

import pytest
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import QDialog, QMainWindow, QStyle

from designer import load_graph
from designer.graph.presets import preset_names, preset_path
from designer.ui import preset_gallery
from designer.graph.model import SetField
from designer.ui.dialogs import HistoryDialog, ShortcutsDialog
from designer.ui.preset_gallery import PresetGalleryDialog, PresetGalleryWidget
from designer.ui.theme import category_color
from designer.ui.thumbnail import GraphThumbnail


@pytest.fixture
def dialog(qtbot):
    d = PresetGalleryDialog()
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(d.gallery.is_loaded, timeout=30000)
    return d


def test_the_gallery_lists_every_preset_with_its_parameter_count(dialog):
    torch = pytest.importorskip("torch")
    gallery = dialog.gallery
    assert sorted(gallery.names()) == preset_names()
    for name in preset_names():
        card = gallery.card(name)
        assert card.problem == "", name
        assert card.params == load_graph(name).graph.analyze().total_params
        assert card.thumbnail is not None and card.thumbnail.chips
    nn = torch.nn
    lenet = nn.Sequential(nn.Conv2d(1, 6, 5), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.AvgPool2d(2),
                          nn.Conv2d(16, 120, 5), nn.Flatten(), nn.Linear(120, 84), nn.Linear(84, 10))
    assert gallery.card("lenet5").params == sum(p.numel() for p in lenet.parameters())
    lenet_card = gallery.card("lenet5")
    assert (lenet_card.title, lenet_card.year) == ("LeNet-5", "1998")
    assert "LeCun" in lenet_card.authors


def test_double_click_chooses_the_preset(qtbot, dialog):
    index = dialog.gallery.index_of("lenet5")
    view = dialog.gallery.view
    view.scrollTo(index)
    centre = view.visualRect(index).center()
    # what Qt receives from a double-click: a click, then the double-click
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    single_click_opens = view.style().styleHint(QStyle.StyleHint.SH_ItemView_ActivateItemOnSingleClick)
    assert dialog.chosen_name() == ("lenet5" if single_click_opens else None)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert dialog.chosen_name() == "lenet5"
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_search_then_enter_chooses_the_match(qtbot, dialog):
    qtbot.keyClicks(dialog.gallery.search, "lecun 1998")
    assert dialog.gallery.names() == ["lenet5"]
    qtbot.keyClick(dialog.gallery.search, Qt.Key.Key_Return)
    assert dialog.chosen_name() == "lenet5"


def test_a_search_without_match_leaves_nothing_to_open(qtbot, dialog):
    qtbot.keyClicks(dialog.gallery.search, "transformer")
    assert dialog.gallery.names() == []
    assert "No preset matches" in dialog.gallery.status.text()
    assert not dialog._open.isEnabled()
    dialog.buttons.rejected.emit()
    assert dialog.chosen_name() is None


def test_open_button_and_enter_in_the_grid(qtbot, dialog):
    gallery = dialog.gallery
    assert gallery.select("lenet5")
    assert dialog._open.isEnabled()
    qtbot.keyClick(gallery.view, Qt.Key.Key_Return)
    assert dialog.chosen_name() == "lenet5"


@pytest.fixture
def preset_dir(tmp_path, monkeypatch):
    """A presets folder of the test's own, with LeNet-5 and a broken file."""
    shutil.copy(preset_path("lenet5"), tmp_path / "lenet5.json")
    (tmp_path / "broken.json").write_text('{"format": "network-designer", "version": 1, "nodes": [', "utf-8")
    monkeypatch.setattr(preset_gallery, "PRESET_DIR", tmp_path)
    monkeypatch.setattr(preset_gallery, "preset_names", lambda: sorted(p.stem for p in tmp_path.glob("*.json")))
    monkeypatch.setattr(preset_gallery, "preset_path",
                        lambda name: tmp_path / f"{name}.json" if (tmp_path / f"{name}.json").is_file() else None)
    return tmp_path


def test_an_unreadable_preset_says_why_and_cannot_be_chosen(qtbot, preset_dir):
    gallery = PresetGalleryWidget()
    qtbot.addWidget(gallery)
    qtbot.waitUntil(gallery.is_loaded, timeout=10000)
    assert gallery.card("broken").problem.startswith("cannot be read")
    chosen = []
    gallery.preset_chosen.connect(chosen.append)
    gallery.choose("broken")
    gallery.choose("lenet5")
    assert chosen == ["lenet5"]


def test_new_and_changed_presets_are_discovered(qtbot, preset_dir):
    gallery = PresetGalleryWidget()
    qtbot.addWidget(gallery)
    qtbot.waitUntil(gallery.is_loaded, timeout=10000)
    first = gallery.card("lenet5")
    shutil.copy(preset_dir / "lenet5.json", preset_dir / "lenet5_copy.json")
    gallery.refresh()
    assert "lenet5_copy" in gallery.names()
    assert gallery.card("lenet5") is first  # unchanged files come from the cache
    stat = (preset_dir / "lenet5.json").stat()
    os.utime(preset_dir / "lenet5.json", (stat.st_atime, stat.st_mtime + 5))
    gallery.refresh()
    assert gallery.card("lenet5") is not first
    qtbot.waitUntil(gallery.is_loaded, timeout=10000)
    assert gallery.card("lenet5").params == 61706


def test_thumbnail_draws_each_block_in_its_category_colour(qtbot):
    graph = load_graph("lenet5").graph
    thumb = GraphThumbnail.from_graph(graph)
    assert len(thumb.chips) == len(graph.nodes) and len(thumb.links) == len(graph.edges)
    image = thumb.image(QSize(400, 200))
    rects = thumb.chip_rects(QRectF(0, 0, 400, 200))
    for chip, rect in zip(thumb.chips, rects):
        centre = rect.center().toPoint()
        assert image.pixelColor(centre) == category_color(chip.category), chip
    assert {c.category for c in thumb.chips} >= {"Input", "Convolution", "Pooling", "Activation", "Dense"}
    assert image.pixelColor(0, 0) == QColor(0, 0, 0, 0)  # transparent around the graph


def test_shortcuts_dialog_lists_actions_by_menu_in_native_text(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    file_menu = window.menuBar().addMenu("&File")
    open_action = QAction("&Open…", window)
    open_action.setShortcut(QKeySequence.StandardKey.Open)
    file_menu.addAction(open_action)
    file_menu.addAction(QAction("No shortcut", window))
    file_menu.addSeparator()
    edit_menu = window.menuBar().addMenu("&Edit")
    fit = QAction("Fit to &View", window)
    fit.setShortcut(QKeySequence("F"))
    edit_menu.addAction(fit)
    dialog = ShortcutsDialog(window.menuBar(), window)
    qtbot.addWidget(dialog)
    native = QKeySequence(QKeySequence.StandardKey.Open).toString(QKeySequence.SequenceFormat.NativeText)
    assert dialog.rows() == [("File", "Open…", native), ("Edit", "Fit to View", "F")]
    dialog.filter.setText("fit")
    assert dialog.tree.topLevelItem(0).isHidden() and not dialog.tree.topLevelItem(1).isHidden()
    # a plain list of actions works too; their menus still group them
    listed = ShortcutsDialog([open_action, fit])
    qtbot.addWidget(listed)
    assert [r[0] for r in listed.rows()] == ["File", "Edit"]


def test_history_dialog_shows_every_step_and_jumps_back(qtbot):
    from designer.graph.model import Graph
    from designer.ui.document import DocumentController
    graph = Graph()
    graph.add_node("Input", {"shape": [1, 8, 8]}, id="x")
    controller = DocumentController(graph)
    for n in (1, 2, 3):
        controller.edit(f"step {n}", [SetField("x", "label", f"label {n}")])
    dialog = HistoryDialog(controller)
    qtbot.addWidget(dialog)
    assert dialog.rows() == ["Opened document", "step 1", "step 2", "step 3"]
    assert dialog.view.currentRow() == 3
    dialog.view.setCurrentRow(1)
    assert controller.history.index == 1 and graph.nodes["x"].label == "label 1"
    controller.document.redo()   # the list follows the history
    assert dialog.view.currentRow() == 2
    dialog.reject()
    controller.document.undo()   # a closed dialog no longer listens
    assert controller.history.index == 1
