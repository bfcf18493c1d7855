"""Choosing torchvision's ImageNet weights in the window: the network inspector's button, the
Training menu, the Train panel's source list and the preset gallery's check box, from a torch
hub cache the test seeds (a temporary TORCH_HOME; nothing is downloaded)."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

torch = pytest.importorskip("torch")
tvm = pytest.importorskip("torchvision.models")

from designer.graph.presets import PRETRAINED_CHOICE  # noqa: E402
from designer.ui.training import PRETRAINED_ACTION  # noqa: E402
from test_ui_editor import dispose  # noqa: E402

pytestmark = pytest.mark.timeout(180)
CHOICE = "ImageNet weights (torchvision IMAGENET1K_V1)"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """Settings and data of our own; torch hub's cache holds a seeded resnet18 under torchvision's name."""
    monkeypatch.setenv("DESIGNER_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("DESIGNER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DESIGNER_DATA", str(tmp_path / "datasets"))
    monkeypatch.setenv("DESIGNER_NO_PRELOAD", "1")
    monkeypatch.setenv("DESIGNER_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    reference = tvm.resnet18(weights=None)
    torch.save(reference.state_dict(), folder / "resnet18-f37072fd.pth")
    return reference.state_dict()


@pytest.fixture
def window(qtbot, hub):
    from designer.ui.main_window import MainWindow
    w = MainWindow(remember=False)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.training_panel.shutdown()
    dispose(w)


def test_the_inspector_loads_imagenet_weights_and_the_summary_says_so(window, qtbot, hub):
    from designer.ui.summary_panel import SummaryPanel
    assert PRETRAINED_CHOICE == CHOICE
    assert window.open_source("resnet18", ask=False)
    inspector = window.docks["inspector"].widget()
    button = inspector._pretrained
    assert button.isVisibleTo(window) and button.text() == "Load ImageNet Weights"
    assert button.toolTip().startswith(f"{CHOICE}: ")
    finetune = window.training_panel.finetune
    assert finetune.source.itemText(0) == f"{CHOICE} · resnet18"
    assert window.actions[PRETRAINED_ACTION].isEnabled()
    assert window.actions[PRETRAINED_ACTION] in window.menus["training"].actions()
    button.click()
    qtbot.waitUntil(lambda: window.controller.weights is not None, timeout=60_000)
    weights = window.controller.weights
    assert len(weights) == 122 and all(torch.equal(weights[k], v) for k, v in hub.items())
    assert finetune.weights_status.text() == (f"The next run starts from 122 trained tensors ({CHOICE}); "
                                              "the other layers are initialised afresh.")
    assert finetune.report.text().startswith("Loaded 122 of 122 tensors.")
    # the Summary's totals say where the weights came from, and forgetting them takes it back
    summary = window.docks["summary"].widget()
    assert isinstance(summary, SummaryPanel)
    assert summary.totals_text().splitlines()[0].endswith(f" · 122 weight tensors, from {CHOICE}")
    finetune.forget()
    assert "weight tensors" not in summary.totals_text()
    window.controller.document.merge_weights(weights, CHOICE)
    # the compiled network now computes what torchvision's does with those weights
    model = window.controller.document.compile().eval()
    reference = tvm.resnet18(weights=None)
    reference.load_state_dict(hub)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference.eval()(x), atol=1e-5, rtol=0)


def test_networks_that_are_not_torchvisions_offer_no_imagenet_weights(window):
    assert window.open_source("alexnet", ask=False)
    assert not window.docks["inspector"].widget()._pretrained.isVisibleTo(window)
    assert not window.actions[PRETRAINED_ACTION].isEnabled()
    finetune = window.training_panel.finetune
    assert all(CHOICE not in finetune.source.itemText(i) for i in range(finetune.source.count()))


def test_the_transfer_preset_reports_its_new_head_and_offline_names_the_file(window, qtbot, tmp_path):
    assert window.open_source("resnet18_transfer", ask=False)
    finetune = window.training_panel.finetune
    finetune.load_selected()   # the first source: the ImageNet weights
    qtbot.waitUntil(lambda: window.controller.weights is not None, timeout=60_000)
    assert len(window.controller.weights) == 120
    assert finetune.report.text().startswith("Loaded 120 of 122 tensors; 2 with another shape: fc.weight")
    assert f"({CHOICE})" in finetune.weights_status.text()
    # without the file, offline: the sentence naming the file and the folder
    (tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth").unlink()
    finetune.forget()
    finetune.load_pretrained()
    qtbot.waitUntil(lambda: finetune.report.text().startswith("Nothing was loaded"), timeout=60_000)
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    assert finetune.report.text() == (
        f"Nothing was loaded: resnet18-f37072fd.pth (torchvision's resnet18 IMAGENET1K_V1 weights) is not in "
        f"{folder} and downloads are off (DESIGNER_OFFLINE is set): put it there "
        f"(from https://download.pytorch.org/models/resnet18-f37072fd.pth).")


def test_the_gallery_offers_imagenet_weights_for_torchvisions_networks(qtbot, hub):
    from designer.ui.preset_gallery import PresetGalleryDialog
    dialog = PresetGalleryDialog()
    qtbot.addWidget(dialog)
    assert dialog.pretrained.text() == f"Start from {CHOICE}"
    for name, offered in (("vgg16", True), ("resnet18_transfer", True), ("vgg16_c", False), ("unet", False)):
        assert dialog.gallery.select(name)
        assert dialog.pretrained.isEnabled() is offered, name
    dialog.gallery.select("resnet50")
    dialog.pretrained.setChecked(True)
    assert dialog.with_pretrained()
