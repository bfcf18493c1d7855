"""`import torchvision:NAME --weights IMAGENET1K_V1`: the imported document starts from torchvision's
trained weights, read from torch hub's cache (a temporary TORCH_HOME seeded here; nothing downloads)."""
from __future__ import annotations

import torch
import torchvision.models as tvm

from designer import load_graph
from designer.__main__ import main
from tests.test_pretrained import RESNET18_FILE, hub, seeded_hub  # noqa: F401 - fixtures


def assert_computes_as_the_cached_resnet18(document, hub_folder):
    """The document's network computes what torchvision's resnet18 does with the cached weights."""
    source = tvm.resnet18(weights=None)
    source.load_state_dict(torch.load(hub_folder / RESNET18_FILE, weights_only=True))
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        want = source.eval()(x)
        got = document.compile().eval()(x)
    assert (want - got).abs().max() <= 1e-4 * want.abs().max()


def test_a_torchvision_import_starts_from_the_cached_imagenet_weights(seeded_hub, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "r18.pth"
    assert main(["import", "torchvision:resnet18", "--weights", "IMAGENET1K_V1", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(
        "imported torchvision:resnet18 with torchvision's IMAGENET1K_V1 weights: 11,689,512 parameters")
    assert_computes_as_the_cached_resnet18(load_graph(str(out)), seeded_hub)


def test_offline_without_the_file_names_it_and_the_folder(hub, tmp_path, capsys):  # noqa: F811
    code = main(["import", "torchvision:resnet18", "--weights", "IMAGENET1K_V1", "-o", str(tmp_path / "r.pth")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {RESNET18_FILE} (torchvision's resnet18 IMAGENET1K_V1 weights) is not in {hub} and "
                   "downloads are off (DESIGNER_OFFLINE is set): put it there "
                   f"(from https://download.pytorch.org/models/{RESNET18_FILE}).")
    assert not (tmp_path / "r.pth").exists()


def test_weights_are_for_torchvision_sources_only(hub, tmp_path, capsys):  # noqa: F811
    source = tmp_path / "net.onnx"
    source.write_bytes(b"")
    assert main(["import", str(source), "--weights", "IMAGENET1K_V1", "-o", str(tmp_path / "r.pth")]) == 2
    assert "only a torchvision:NAME source takes them" in capsys.readouterr().err
    assert main(["import", "torchvision:resnet18", "--weights", "V9", "-o", str(tmp_path / "r.pth")]) == 2
    assert capsys.readouterr().err.strip().startswith("error: torchvision's resnet18 has no weights 'V9' (it has ")
