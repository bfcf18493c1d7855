"""File ▸ Import… in the real window: the torchvision list with torchvision's own parameter
counts, an import on a worker thread that opens as a new document with its weights, and a
refusal shown as one message."""
from __future__ import annotations

import pytest
from tests.test_import_pretrained import assert_computes_as_the_cached_resnet18
from tests.test_pretrained import hub, seeded_hub  # noqa: F401 - fixtures
from tests.test_ui_editor import dispose

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def window(qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("DESIGNER_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("DESIGNER_DATA_DIR", str(tmp_path / "data"))
    from designer.ui.main_window import MainWindow
    w = MainWindow(remember=False)
    w.show()
    yield w
    dispose(w)


def test_the_import_dialog_lists_torchvision_with_its_parameter_counts(window, qtbot):
    import torchvision.models as tvm
    from designer.ui.import_dialog import ImportDialog
    dialog = ImportDialog(window)
    qtbot.addWidget(dialog)
    models = dialog.models
    names = models.names()
    assert names == tvm.list_models(module=tvm)
    row = models.list.topLevelItem(names.index("resnet50"))
    assert (row.text(0), row.text(1)) == ("resnet50", f"{sum(p.numel() for p in tvm.resnet50().parameters()):,}")
    models.search.setText("vit_")
    assert models.names(shown_only=True) == [n for n in names if "vit_" in n]
    models.list.setCurrentItem(models.list.topLevelItem(names.index("vit_b_16")))
    assert models.choose_current() and dialog.source == "torchvision:vit_b_16"


def test_an_import_opens_as_a_new_document_with_its_weights(window, qtbot):
    from designer.ui.import_dialog import start_import
    assert "import" in window.actions
    start_import(window, "torchvision:resnet18")
    qtbot.waitUntil(lambda: "layer4_1" in window.controller.graph.nodes, timeout=120_000)
    doc = window.controller.document
    assert len(doc.graph.nodes) == 17 and doc.graph.nodes["layer1_0"].type == "BasicBlock"
    assert doc.analysis.total_params == 11_689_512
    assert "conv1.weight" in doc.weights
    assert window.statusBar().currentMessage().startswith("Imported torchvision:resnet18")
    # the inspector says that layer1's two blocks are one definition
    from designer.ui.inspector import InspectorPanel
    inspector = window.findChild(InspectorPanel)
    window.controller.select(["layer1_1"])
    qtbot.waitUntil(lambda: "shared by 2 blocks" in inspector._subtitle.text(), timeout=5000)
    assert inspector._subtitle.text().startswith("BasicBlock · Composite · id layer1_1 · one definition shared by 2")


def test_a_refused_import_is_one_message(window, qtbot, monkeypatch):
    from designer.ui.import_dialog import start_import
    shown = []
    monkeypatch.setattr(window, "show_problem", lambda title, text: shown.append((title, text)))
    start_import(window, "torchvision:resnet7")
    qtbot.waitUntil(lambda: bool(shown), timeout=60_000)
    assert shown == [("Cannot import", "torchvision has no model 'resnet7' (see torchvision.models.list_models())")]


def test_a_torchscript_file_from_elsewhere_asks_its_input_shape_and_imports(window, qtbot, monkeypatch, tmp_path):
    import torch
    from PySide6.QtWidgets import QFileDialog, QInputDialog
    from designer.ui.import_dialog import ImportDialog, start_import
    from tests.test_import import _torchscript_file
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(144, 3))
    path = _torchscript_file(net, (1, 8, 8), tmp_path / "theirs.pt")
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    monkeypatch.setattr(QInputDialog, "getText", lambda _parent, _title, label, **k: (asked.append(label), "1,8,8", True)[1:])
    dialog = ImportDialog(window)
    qtbot.addWidget(dialog)
    dialog._from_file()
    assert asked == ["Input shape without the batch (C,H,W):"]
    assert (dialog.source, dialog.input_shape) == (str(path), "1,8,8")
    start_import(window, dialog.source, dialog.input_shape)
    qtbot.waitUntil(lambda: window.controller.document.analysis.total_params == 475, timeout=120_000)
    assert {n.type for n in window.controller.graph.nodes.values()} >= {"Conv2d", "Linear"}


def test_the_preset_gallery_has_a_torchvision_section_that_imports_on_open(window, qtbot):
    from designer.ui.preset_gallery import PresetGalleryDialog
    dialog = PresetGalleryDialog(window)
    qtbot.addWidget(dialog)
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == ["Lecture presets", "torchvision"]
    dialog.tabs.setCurrentIndex(1)
    models = dialog.torchvision
    assert "squeezenet1_1" in models.names() and dialog.pretrained.isEnabled()   # ImageNet weights may be chosen
    models.list.setCurrentItem(models.list.topLevelItem(models.names().index("squeezenet1_1")))
    dialog.buttons.accepted.emit()      # Open
    assert dialog.result() == dialog.DialogCode.Rejected and dialog.chosen_name() is None   # the importer opens it
    qtbot.waitUntil(lambda: window.controller.document.analysis.total_params == 1_235_496, timeout=120_000)
    assert window.controller.graph.meta["title"] == "squeezenet1_1"


def test_a_torchvision_model_imports_with_imagenet_weights_from_the_cache(window, qtbot, seeded_hub):  # noqa: F811
    """The check box of File ▸ Import… (and of the gallery's torchvision tab) starts the model from
    torchvision's weights, read from torch hub's cache (seeded here; nothing downloads)."""
    from designer.ui.import_dialog import ImportDialog, start_import
    dialog = ImportDialog(window)
    qtbot.addWidget(dialog)
    names = dialog.models.names()
    dialog.models.list.setCurrentItem(dialog.models.list.topLevelItem(names.index("resnet18")))
    dialog.pretrained.setChecked(True)
    assert dialog.models.choose_current()
    assert (dialog.source, dialog.weights) == ("torchvision:resnet18", "IMAGENET1K_V1")
    start_import(window, dialog.source, dialog.input_shape, dialog.weights)
    qtbot.waitUntil(lambda: "layer4_1" in window.controller.graph.nodes, timeout=120_000)
    assert window.statusBar().currentMessage().startswith(
        "Imported torchvision:resnet18 with torchvision's IMAGENET1K_V1 weights")
    assert_computes_as_the_cached_resnet18(window.controller.document, seeded_hub)
