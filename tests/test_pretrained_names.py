"""The presets of torchvision's networks carry torchvision's names: its state dicts load
strictly into them and theirs into torchvision's builders, with the same outputs.
Checked against torchvision itself (a seeded random model each; nothing downloaded)."""
from __future__ import annotations

import time

import pytest

torch = pytest.importorskip("torch")
tvm = pytest.importorskip("torchvision.models")

from designer import load_graph  # noqa: E402
from designer.compile import compile_graph  # noqa: E402
from designer.graph.presets import preset_names  # noqa: E402

TORCHVISION_PRESETS = ["vgg11", "vgg13", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50"]
# the lecture's networks that torchvision does not build as they are here
NOT_TORCHVISION = ["alexnet", "vgg11_lrn", "vgg16_c", "googlenet", "googlenet_aux", "plain34", "unet", "vae", "gan"]


@pytest.mark.slow
@pytest.mark.parametrize("name", TORCHVISION_PRESETS)
def test_torchvision_weights_load_strictly_both_ways_with_the_same_outputs(name):
    started = time.perf_counter()
    graph = load_graph(name).graph
    assert graph.meta["torchvision"] == name
    torch.manual_seed(0)
    reference = getattr(tvm, name)(weights=None)            # a seeded random torchvision model
    # the preset, given memory only: every value comes from torchvision's state dict, strictly
    ours = compile_graph(graph, device="meta").to_empty(device="cpu").eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    del reference
    # and the preset's state dict into torchvision's builder, strictly (sharing the tensors)
    with torch.device("meta"):
        theirs = getattr(tvm, name)(weights=None)
    theirs.load_state_dict(ours.state_dict(), strict=True, assign=True)
    theirs.eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = theirs(x), ours(x)
    assert got.shape == expected.shape == (2, 1000)
    scale = float(expected.abs().max())
    assert float((got - expected).abs().max()) <= 1e-4 * scale, name
    print(f"{name}: {time.perf_counter() - started:.1f} s")


def test_the_keys_are_torchvisions_and_nothing_is_allocated_to_see_it():
    """Quick version of the above for the suite's fast path: names and shapes on the meta device."""
    for name in TORCHVISION_PRESETS:
        ours = compile_graph(load_graph(name).graph, device="meta").state_dict()
        with torch.device("meta"):
            theirs = getattr(tvm, name)(weights=None).state_dict()
        assert list(ours) == list(theirs), name
        assert all(ours[k].shape == v.shape for k, v in theirs.items()), name
    keys = compile_graph(load_graph("resnet50").graph, device="meta").state_dict()
    assert {"layer2.0.downsample.0.weight", "layer4.2.bn3.running_var"} <= set(keys)
    keys = compile_graph(load_graph("vgg16").graph, device="meta").state_dict()
    assert {"features.0.weight", "classifier.6.bias"} <= set(keys)


def test_the_canvas_keeps_the_lectures_labels():
    vgg = load_graph("vgg16").graph
    features = vgg.composites[vgg.nodes["features"].type].graph
    classifier = vgg.composites[vgg.nodes["classifier"].type].graph
    assert features.nodes["0"].label == "conv3-64" and features.nodes["28"].label == "conv3-512"
    assert [n.label for n in classifier.nodes.values() if n.type == "Linear"] == ["FC-4096", "FC-4096", "FC-1000"]
    resnet = load_graph("resnet34").graph
    assert [resnet.nodes[f"layer{i}"].label.split(":")[0] for i in range(1, 5)] == \
        ["conv2_x", "conv3_x", "conv4_x", "conv5_x"]


def test_the_transfer_preset_takes_all_but_its_new_head():
    from designer.compile.transfer import fitting_entries
    graph = load_graph("resnet18_transfer").graph
    assert graph.meta["torchvision"] == "resnet18"
    with torch.device("meta"):
        state = tvm.resnet18(weights=None).state_dict()
    _, report = fitting_entries(compile_graph(graph, device="meta"), state)
    assert str(report).startswith("loaded 120 of 122 tensors; 2 with another shape: fc.weight (1000×512 in "
                                  "the file, 10×512 here), fc.bias (1000 in the file, 10 here)")


def test_the_other_presets_say_they_are_not_torchvisions():
    assert set(NOT_TORCHVISION) | set(TORCHVISION_PRESETS) | {"resnet18_transfer", "mlp", "lenet5"} == \
        set(preset_names())
    for name in NOT_TORCHVISION:
        meta = load_graph(name).graph.meta
        assert "torchvision" not in meta, name
        assert "torchvision" in meta["description"] and ("do not fit" in meta["description"]
                                                        or "no ImageNet weights" in meta["description"]
                                                        or "fit only" in meta["description"]), name


def test_a_trained_preset_loads_into_torchvisions_builder(tmp_path):
    """The README's three lines: the designer's .pth export of a resnet18 with a 10-class head
    loads strictly into torchvision.models.resnet18(num_classes=10) and computes the same."""
    from designer.compile.export import export
    from designer.graph.model import SetParam
    doc = load_graph("resnet18")
    doc.edit("a head for 10 classes", [SetParam("fc", "out_features", 10)])
    torch.manual_seed(0)
    trained = doc.compile().eval()   # stands for a network trained here
    path = export(doc.graph, tmp_path / "resnet18_10.pth", module=trained)
    # -- the README's lines --
    import torchvision
    model = torchvision.models.resnet18(num_classes=10)
    model.load_state_dict(torch.load(path, weights_only=True)["state_dict"])
    # --
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), trained(x), atol=1e-5, rtol=0)
