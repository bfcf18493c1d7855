"""Transfer of weights: a state dict mapped onto a compiled network by name, with a
report of what matched; the basis of fine-tuning (load, freeze, replace the head)."""
import pytest
import torch

from designer.compile import WeightsFileError, compile_graph, load_weights
from designer.document import Document
from designer.compile.transfer import state_dict_of
from designer.graph.model import Graph, SetField


def small_cnn(classes: int = 10, extra: bool = False) -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [1, 12, 12], "name": "image"}, id="input")
    g.add_node("Conv2d", {"out_channels": 6, "kernel_size": 3}, id="conv1")
    g.add_node("BatchNorm", {}, id="bn1")
    g.add_node("ReLU", id="relu1")
    g.add_node("MaxPool2d", {}, id="pool")
    g.add_node("Flatten", id="flatten")
    g.add_node("Linear", {"out_features": 32}, id="fc1")
    g.add_node("ReLU", id="relu2")
    g.add_node("Linear", {"out_features": classes}, id="head")
    ids = ["input", "conv1", "bn1", "relu1", "pool", "flatten", "fc1", "relu2"]
    if extra:
        g.add_node("Linear", {"out_features": 32}, id="fc2")
        ids.append("fc2")
    g.chain(*ids, "head")
    return g


def trained(graph: Graph, seed: int = 3):
    torch.manual_seed(seed)
    module = compile_graph(graph)
    with torch.no_grad():
        for t in module.state_dict().values():
            if t.is_floating_point():
                t.add_(torch.randn_like(t) * 0.1 + 0.3)
    return module


def test_matching_weights_load_by_name_into_a_module(tmp_path):
    source = trained(small_cnn())
    torch.save(source.state_dict(), tmp_path / "w.pt")
    target = compile_graph(small_cnn())
    report = load_weights(target, tmp_path / "w.pt")
    assert report.ok and len(report.matched) == len(source.state_dict())
    x = torch.randn(4, 1, 12, 12)
    with torch.no_grad():
        assert torch.equal(target.eval()(x), source.eval()(x))


def test_a_replaced_head_is_reported_and_the_rest_loads():
    source = trained(small_cnn(10))
    target = compile_graph(small_cnn(3))
    fresh_head = target.head.weight.clone()
    report = load_weights(target, source.state_dict())
    assert report.mismatched == [("head.weight", (10, 32), (3, 32)), ("head.bias", (10,), (3,))]
    assert not report.missing and not report.unexpected and not report.ok
    assert torch.equal(target.conv1.weight, source.conv1.weight)
    assert torch.equal(target.bn1.running_var, source.bn1.running_var)
    assert torch.equal(target.head.weight, fresh_head)
    text = str(report)
    assert "head.weight (10×32 in the file, 3×32 here)" in text and "loaded" in text


def test_missing_and_unexpected_keys():
    source = trained(small_cnn(extra=True))
    target = compile_graph(small_cnn())
    report = load_weights(target, source.state_dict())
    assert report.unexpected == ["fc2.weight", "fc2.bias"]
    assert report.mismatched == []  # head takes 32 features either way
    smaller = trained(small_cnn())
    report = load_weights(compile_graph(small_cnn(extra=True)), smaller.state_dict())
    assert report.missing == ["fc2.weight", "fc2.bias"]


def test_strict_refuses_and_loads_nothing():
    source = trained(small_cnn(10))
    target = compile_graph(small_cnn(3))
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(WeightsFileError, match="do not fit"):
        load_weights(target, source.state_dict(), strict=True)
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())


def test_wrapped_and_prefixed_state_dicts(tmp_path):
    source = trained(small_cnn())
    checkpoint = {"model": {f"module.{k}": v for k, v in source.state_dict().items()},
                  "optimizer": {"state": {}, "param_groups": []}, "epoch": 3}
    torch.save(checkpoint, tmp_path / "last.pt")
    report = load_weights(compile_graph(small_cnn()), tmp_path / "last.pt")
    assert report.ok and "conv1.weight" in report.matched
    with pytest.raises(WeightsFileError, match="no state dict"):
        load_weights(compile_graph(small_cnn()), {"epoch": 3})


def test_a_training_runs_checkpoint_loads_like_a_state_dict(tmp_path):
    """last.pt / best.pt keep the network under "nets"; a GAN's two nets come back under
    their names, as a document of two networks compiles them."""
    source = trained(small_cnn())
    run = {"format": "network-designer-run", "nets": {"model": source.state_dict()}, "config": {"epochs": 1},
           "optimizer": {"state": {}, "param_groups": []}}
    torch.save(run, tmp_path / "last.pt")
    target = compile_graph(small_cnn())
    report = load_weights(target, tmp_path / "last.pt", strict=True)
    assert report.ok and len(report.matched) == len(source.state_dict())
    assert torch.equal(target.head.weight, source.head.weight)
    gan = {"nets": {"generator": {"fc.weight": torch.ones(2, 3)}, "discriminator": {"fc.bias": torch.ones(1)}}}
    assert set(state_dict_of(gan)) == {"generator.fc.weight", "discriminator.fc.bias"}


def test_fine_tuning_a_document_load_freeze_replace_the_head(tmp_path):
    """The lecture's transfer learning: a document's weights survive replacing the head;
    frozen blocks keep their weights through a training step."""
    source = trained(small_cnn(10))
    torch.save(source.state_dict(), tmp_path / "pretrained.pt")
    doc = Document(small_cnn(10))
    report = doc.load_weights(tmp_path / "pretrained.pt")
    assert report.ok and set(doc.weights) == set(source.state_dict())
    # replace the head: a new 3-class layer, and freeze the features (one undo step each)
    graph = doc.graph
    doc.edit("Remove head", graph.removal_ops(["head"]))
    graph.add_node("Linear", {"out_features": 3}, id="new_head")
    graph.connect("relu2", "new_head")
    doc.edit("Freeze", [SetField(node_id, "trainable", False) for node_id in ("conv1", "bn1", "fc1")])
    model = doc.compile()
    assert torch.equal(model.conv1.weight, source.conv1.weight)
    assert torch.equal(model.fc1.bias, source.fc1.bias)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["new_head.weight", "new_head.bias"]
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss = torch.nn.functional.cross_entropy(model(torch.randn(8, 1, 12, 12)), torch.randint(0, 3, (8,)))
    loss.backward()
    optimizer.step()
    after = model.state_dict()
    assert torch.equal(after["conv1.weight"], before["conv1.weight"])
    assert torch.equal(after["fc1.weight"], before["fc1.weight"])
    assert not torch.equal(after["new_head.weight"], before["new_head.weight"])
    assert torch.equal(doc.weights["conv1.weight"], source.conv1.weight), "training the module left the document as it was"
    doc.set_weights(None)
    assert not torch.equal(doc.compile().conv1.weight, source.conv1.weight)


def test_weights_are_the_documents_explicitly_and_travel_with_its_copies():
    source = trained(small_cnn())
    doc = Document(small_cnn())
    doc.load_weights(source.state_dict())
    copy = doc.copy()
    assert copy.graph is not doc.graph and copy.weights is not doc.weights
    for module in (doc.compile(), copy.compile()):
        assert module.state_dict().keys() == source.state_dict().keys()
        assert all(torch.equal(module.state_dict()[k], v) for k, v in source.state_dict().items())
    copy.set_weights(None)   # the copy's weights are its own
    assert doc.weights is not None
    # the graph itself carries nothing: compiled bare, it is freshly initialised
    assert not torch.equal(compile_graph(doc.graph).fc1.weight, source.fc1.weight)


def test_no_module_level_table_holds_weights():
    import designer
    from pathlib import Path
    root = Path(designer.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py") if "WeakKeyDictionary" in p.read_text()]
    assert offenders == []


def test_a_document_saved_with_weights_reopens_to_the_same_outputs(tmp_path):
    from designer import load_graph, save_graph
    source = trained(small_cnn())
    doc = Document(small_cnn())
    doc.load_weights(source.state_dict())
    save_graph(doc, tmp_path / "cnn.pth")
    again = load_graph(tmp_path / "cnn.pth")
    x = torch.randn(4, 1, 12, 12)
    with torch.no_grad():
        assert torch.equal(again.compile().eval()(x), source.eval()(x))
    assert again.weights.keys() == source.state_dict().keys()
    assert again.weights_origin == "cnn.pth"     # where the weights came from, for the summary to say


def test_a_document_says_where_its_weights_came_from(tmp_path):
    from designer.document.events import WeightsChanged
    source = trained(small_cnn())
    torch.save(source.state_dict(), tmp_path / "best.pt")
    doc = Document(small_cnn())
    heard = []
    doc.subscribe(lambda e: heard.append(e) if isinstance(e, WeightsChanged) else None)
    assert doc.weights_origin == ""
    doc.load_weights(tmp_path / "best.pt")
    assert doc.weights_origin == "best.pt" and heard[-1] == WeightsChanged(len(doc.weights), "best.pt")
    doc.merge_weights({"fc1.bias": source.fc1.bias.detach()})     # more of the same: the origin stays
    assert doc.weights_origin == "best.pt"
    assert doc.copy().weights_origin == "best.pt"
    doc.set_weights(None)
    assert doc.weights_origin == "" and heard[-1] == WeightsChanged(0, "")
