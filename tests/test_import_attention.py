"""Attention that torch.onnx and torch.export take apart (the batch moved to axis 1, heads folded
into it, scaled dot products, softmax) comes back as one batch-first MultiheadAttention block
holding the source's projection weights: outputs compared with PyTorch's own module."""
from __future__ import annotations

import warnings

import pytest
import torch
import torchvision.models as tvm
from torch import nn

import designer
from designer.importer import ImportFailure, import_network
from tests.test_import import attention_blocks


def _onnx(module, shape, path):
    pytest.importorskip("onnxscript")   # the exporter's; the onnx extra
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module.eval(), (torch.randn(2, *shape),), dynamo=True, input_names=["x"],
                                    dynamic_shapes=({0: torch.export.Dim("batch", min=1)},), verbose=False)
        program.save(str(path))
    return path


def _pt2(module, shape, path):
    program = torch.export.export(module.eval(), (torch.randn(2, *shape),),
                                  dynamic_shapes=({0: torch.export.Dim("batch", min=1)},))
    torch.export.save(program, str(path))
    return path


def _write(how, module, shape, tmp_path):
    return (_onnx if how == "onnx" else _pt2)(module, shape, tmp_path / f"net.{'onnx' if how == 'onnx' else 'pt2'}")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(source, file) of CASES[case] written by torch.onnx or torch.export, once per module."""
    made = {}

    def get(case, how):
        if (case, how) not in made:
            build, shape = CASES[case]
            torch.manual_seed(0)
            source = _randomise(build()).eval()
            made[case, how] = source, _write(how, source, shape, tmp_path_factory.mktemp(f"{case}_{how}"))
        return made[case, how]
    return get


def _difference(source, doc, shape) -> float:
    torch.manual_seed(1)
    x = torch.randn(3, *shape)      # a batch other than the exported one
    with torch.no_grad():
        want, got = source.eval()(x), doc.compile().eval()(x)
    assert want.shape == got.shape
    return ((want - got).abs().max() / want.abs().max()).item()


def _randomise(module):
    """Biases and heads torch starts at zero get small random values, so a dropped or misplaced one shows."""
    with torch.no_grad():
        for p in module.parameters():
            if not p.any():
                p.normal_(0, 0.1)
    return module


class SelfAttention(nn.Module):
    """Self-attention, then cross-attention whose queries come from elsewhere (the exporters
    split the packed projection for it)."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 4, batch_first=True)
        self.queries = nn.Linear(16, 16)
        self.cross = nn.MultiheadAttention(16, 2, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        y, _ = self.attention(x, x, x)
        z, _ = self.cross(self.queries(y), x, x)
        return self.head(z + y)


def _tiny_vit():
    return tvm.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16,
                                 mlp_dim=32, num_classes=5)


class EncoderDecoder(nn.Module):
    """torch.nn's transformer layers: the decoder's self-attention, and its cross-attention on
    the encoder's output."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerDecoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True,
                                                  norm_first=True)
        self.head = nn.Linear(5 * 16, 4)

    def forward(self, x):
        return self.head(self.decoder(x, self.encoder(x)).flatten(1))


CASES = {"vit": (_tiny_vit, (3, 32, 32)), "transformer": (EncoderDecoder, (5, 16))}


@pytest.mark.parametrize("how", ["onnx", "pt2"])
@pytest.mark.parametrize("case", list(CASES))
def test_exported_attention_comes_back_as_one_block_and_computes_the_same(exported, how, case):
    shape = CASES[case][1]
    source, path = exported(case, how)
    doc = designer.import_model(path)
    a = doc.analyze()
    assert a.ok, a.errors
    attention = [m for m in source.modules() if isinstance(m, nn.MultiheadAttention)]
    blocks = attention_blocks(doc.graph)
    # one block per attention module; with shared definitions (ViT's encoder blocks) one per definition
    assert len(blocks) == (1 if case == "vit" else len(attention))
    assert {b.params["num_heads"] for b in blocks} == {m.num_heads for m in attention}
    if how == "pt2":
        assert a.total_params == sum(p.numel() for p in source.parameters())
    assert _difference(source, doc, shape) <= 1e-4


def test_the_attention_block_holds_the_source_weights_by_their_names(tmp_path):
    torch.manual_seed(0)
    source = _randomise(SelfAttention()).eval()
    doc = designer.import_model(_write("pt2", source, (5, 16), tmp_path))
    assert _difference(source, doc, (5, 16)) <= 1e-4
    # (a linear layer on sequences is a generic nn.Linear: the designer's Linear takes vectors)
    assert [n.type for n in doc.graph.nodes.values()] == ["Input", "MultiheadAttention", "TorchModule",
                                                          "MultiheadAttention", "Add", "TorchModule", "Output"]
    assert [n.params["num_heads"] for n in doc.graph.nodes.values() if n.type == "MultiheadAttention"] == [4, 2]
    names = {k for k in doc.weights if k.startswith("attention.")}
    assert names == {"attention.in_proj_weight", "attention.in_proj_bias", "attention.out_proj.weight",
                     "attention.out_proj.bias"}
    assert torch.equal(doc.weights["attention.in_proj_weight"], source.attention.in_proj_weight)
    assert torch.equal(doc.weights["attention.out_proj.bias"], source.attention.out_proj.bias)


class SequenceFirst(nn.Module):
    """Attention on L×N×E (batch_first=False), the batch moved to axis 1 by the network itself."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 4)

    def forward(self, x):
        x = x.transpose(0, 1)
        y, _ = self.attention(x, x, x)
        return y.transpose(0, 1).flatten(1)


class Causal(nn.Module):
    """Attention with a mask, which the designer's block does not apply."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 4, batch_first=True)

    def forward(self, x):
        mask = torch.triu(torch.full((5, 5), float("-inf")), 1)
        y, _ = self.attention(x, x, x, attn_mask=mask)
        return y.flatten(1)


REFUSED = {SequenceFirst: "its inputs do not carry the batch on the first axis (batch_first=False); the designer's "
                          "attention block takes the batch first",
           Causal: "it takes a mask (attn_mask or key_padding_mask), which the designer's attention block does not "
                   "apply"}


@pytest.mark.parametrize("network, how", [(SequenceFirst, "pt2"), (Causal, "pt2"), (Causal, "onnx")],
                         ids=["SequenceFirst-pt2", "Causal-pt2", "Causal-onnx"])   # the batch check is one for both
def test_attention_the_block_cannot_hold_is_refused_in_one_sentence(tmp_path, how, network):
    torch.manual_seed(0)
    with pytest.raises(ImportFailure) as info:
        import_network(_write(how, network(), (5, 16), tmp_path))
    assert info.value.problems == [f"attention (nn.MultiheadAttention): cannot be imported because {REFUSED[network]}"]


@pytest.mark.parametrize("how", ["onnx", "pt2"])
def test_an_exported_vit_opens_with_the_blocks_the_module_itself_gives(exported, how):
    """The file reads as the module does: patch reshape, class token, encoder blocks sharing one
    definition, the class token's row taken by an index block (torch.onnx drops the dropouts)."""
    source, path = exported("vit", how)

    def top(graph):
        return [n.type for n in graph.nodes.values() if n.type != "Dropout"]

    instance = import_network(source, (3, 32, 32)).graph
    read = import_network(path).graph
    assert top(read) == top(instance)
    assert len(read.composites) == len(instance.composites) == 1
