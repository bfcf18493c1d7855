"""torchvision's ImageNet weights from torch hub's cache: `train … --weights torchvision`,
the offline sentence, the download's hash check. Nothing is downloaded: the cache is a
temporary TORCH_HOME seeded by the test, and "downloads" read file:// URLs."""
from __future__ import annotations

import hashlib

import pytest

torch = pytest.importorskip("torch")
tvm = pytest.importorskip("torchvision.models")

from designer import load_graph  # noqa: E402
from designer.__main__ import main  # noqa: E402
from designer.compile import pretrained  # noqa: E402
from designer.compile.pretrained import Pretrained, PretrainedUnavailable  # noqa: E402

RESNET18_FILE = "resnet18-f37072fd.pth"   # torchvision's own name for ResNet18_Weights.IMAGENET1K_V1
FAST = ["--dataset", "digits", "--image-size", "32", "--limit", "64", "--epochs", "1", "--batch-size", "32",
        "--threads", "1"]


def main_code(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache of our own, downloads off unless a test turns them on."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("DESIGNER_OFFLINE", "1")
    return tmp_path / "torch" / "hub" / "checkpoints"


@pytest.fixture
def seeded_hub(hub):
    """The cache holding a seeded random resnet18 under torchvision's file name."""
    hub.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(tvm.resnet18(weights=None).state_dict(), hub / RESNET18_FILE)
    return hub


def test_the_file_and_folder_are_torchvisions(hub):
    entry = pretrained.pretrained_for("resnet18")
    assert entry.file_name == RESNET18_FILE and entry.path == hub / RESNET18_FILE
    assert entry.url == tvm.ResNet18_Weights.IMAGENET1K_V1.url
    assert pretrained.pretrained_for("vgg16").file_name == tvm.VGG16_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1]
    assert pretrained.torchvision_model(load_graph("resnet18_transfer").graph) == "resnet18"
    assert pretrained.torchvision_model(load_graph("alexnet").graph) is None


def test_train_the_transfer_preset_from_torchvisions_weights(seeded_hub, tmp_path, capsys):
    out = tmp_path / "run"
    assert main_code(["train", "resnet18_transfer", "--weights", "torchvision", "--out", str(out)] + FAST) == 0
    err = capsys.readouterr().err
    assert f"starting weights from {seeded_hub / RESNET18_FILE}: loaded 120 of 122 tensors; 2 with another " \
           "shape: fc.weight (1000×512 in the file, 10×512 here), fc.bias (1000 in the file, 10 here)" in err
    assert "epoch 1/1: train loss" in err and (out / "best.pt").is_file()


def test_offline_without_the_file_exits_2_naming_file_and_folder(hub, tmp_path, capsys):
    code = main_code(["train", "resnet18_transfer", "--weights", "torchvision", "--out", str(tmp_path / "run")]
                     + FAST)
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"error: {RESNET18_FILE} (torchvision's resnet18 IMAGENET1K_V1 weights) is not in {hub} and "
                   f"downloads are off (DESIGNER_OFFLINE is set): put it there "
                   f"(from https://download.pytorch.org/models/{RESNET18_FILE}).\n")
    assert not (tmp_path / "run").exists()


def test_a_network_that_is_not_torchvisions_has_no_such_weights(hub, tmp_path, capsys):
    code = main_code(["train", "lenet5", "--weights", "torchvision", "--out", str(tmp_path / "run")] + FAST)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: --weights torchvision: this network is not one of torchvision's")


# ---- the download: progress, hash check, failures (file:// URLs, no network) -------------------

def _served(tmp_path, payload: bytes, name: str) -> str:
    source = tmp_path / "server" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(payload)
    return source.as_uri()


def _offer(monkeypatch, url: str, hub):
    monkeypatch.delenv("DESIGNER_OFFLINE")
    monkeypatch.setattr(pretrained, "pretrained_for",
                        lambda model, weights=pretrained.WEIGHTS: Pretrained(model, weights, url, hub))


def test_a_download_whose_hash_agrees_lands_in_the_cache(hub, tmp_path, monkeypatch):
    state = {"w": torch.arange(6.0).reshape(2, 3)}
    torch.save(state, tmp_path / "blob.pth")
    payload = (tmp_path / "blob.pth").read_bytes()
    name = f"tiny-{hashlib.sha256(payload).hexdigest()[:8]}.pth"
    _offer(monkeypatch, _served(tmp_path, payload, name), hub)
    assert pretrained.fetch("tiny", progress=False) == hub / name
    assert torch.equal(pretrained.read("tiny", progress=False)["w"], state["w"])


def test_a_download_with_another_hash_is_refused_and_not_kept(hub, tmp_path, monkeypatch):
    _offer(monkeypatch, _served(tmp_path, b"not the weights", "resnet18-f37072fd.pth"), hub)
    with pytest.raises(PretrainedUnavailable, match=r"^resnet18-f37072fd\.pth .* the download was damaged"):
        pretrained.fetch("resnet18", progress=False)
    assert not (hub / RESNET18_FILE).exists()


def test_no_network_says_where_to_put_the_file(hub, tmp_path, monkeypatch):
    _offer(monkeypatch, (tmp_path / "nowhere" / RESNET18_FILE).as_uri(), hub)
    with pytest.raises(PretrainedUnavailable) as caught:
        pretrained.fetch("resnet18", progress=False)
    text = str(caught.value)
    assert text.startswith(f"{RESNET18_FILE} (torchvision's resnet18 IMAGENET1K_V1 weights) is not in {hub} and "
                           "could not be downloaded (") and "\n" not in text


def test_a_cache_folder_that_cannot_be_made_says_where_to_put_the_file(hub, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    blocked = tmp_path / "file" / "checkpoints"
    _offer(monkeypatch, (tmp_path / "nowhere" / RESNET18_FILE).as_uri(), blocked)
    with pytest.raises(PretrainedUnavailable) as caught:
        pretrained.fetch("resnet18", progress=False)
    assert str(caught.value).startswith(f"{RESNET18_FILE} (torchvision's resnet18 IMAGENET1K_V1 weights) is not in "
                                        f"{blocked} and could not be downloaded (")
