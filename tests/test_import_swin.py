"""Window attention with a relative position bias (torchvision's Swin Transformer and MaxViT,
built small here from torchvision's own classes) and tensors computed from parameters and
integer buffers alone: the import counts exactly the module's parameters, gives its output
shape, and the compiled document computes what the module computes."""
from __future__ import annotations

import json
from functools import partial

import pytest
import torch
from torch import nn
from torchvision.models import maxvit, swin_transformer as swin

from designer.document import Document, open_document
from designer.importer import import_network


def imports_exactly(source: nn.Module, shape) -> Document:
    source.eval()
    imported = import_network(source, shape)
    doc = Document(imported.graph, imported.weights)
    a = doc.analyze()
    assert a.ok, a.errors[:3]
    assert a.total_params == sum(p.numel() for p in source.parameters())
    torch.manual_seed(1)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        want, got = source(x), doc.compile().eval()(x)
    assert a.output_shapes == {"out": tuple(want.shape[1:])}
    assert (want - got).abs().max() <= 1e-5 * want.abs().max()
    return doc


class TableBias(nn.Module):
    """A learned table read through a fixed integer index: a bias computed from a parameter and
    a buffer alone, with no batch axis, added to each sample."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.table = nn.Parameter(torch.randn(9, 4))
        self.register_buffer("index", torch.randint(0, 9, (4, 4)))

    def forward(self, x):
        bias = self.table[self.index].sum(-1)
        return self.lin(x) + bias


def test_a_bias_read_from_a_table_through_an_integer_buffer_imports_exactly(tmp_path):
    torch.manual_seed(0)
    doc = imports_exactly(TableBias(), (4, 4))
    params = {n.id: n.params for n in doc.graph.nodes.values() if n.type == "Parameter"}
    assert params["index"]["dtype"] == "int64" and not params["index"]["learned"]
    assert params["table"]["learned"] and list(params["table"]["shape"]) == [9, 4]
    assert doc.weights["index.value"].dtype == torch.int64
    # the index stays whole numbers through a saved document and the module compiled from it
    again = open_document(doc.save(tmp_path / "bias.pth"))
    assert again.weights["index.value"].dtype == torch.int64
    assert again.compile().state_dict()["index.value"].dtype == torch.int64


def test_swin_blocks_v1_and_v2_with_patch_merging_import_exactly():
    torch.manual_seed(0)
    for block, merge in ((swin.SwinTransformerBlock, swin.PatchMerging),
                         (swin.SwinTransformerBlockV2, swin.PatchMergingV2)):
        source = nn.Sequential(block(8, 2, [4, 4], [0, 0]), block(8, 2, [4, 4], [2, 2]), merge(8),
                               block(16, 2, [4, 4], [2, 2]))
        doc = imports_exactly(source, (9, 10, 8))     # padded to whole windows and even sizes
        kinds = {n.type for n in doc.graph.nodes.values()}
        assert len(kinds) > 1
        functions = [n.params["function"] for d in doc.graph.composites.values() for n in d.graph.nodes.values()
                     if n.type == "TorchFunction"]
        assert "torchvision.models.swin_transformer.shifted_window_attention" in functions


def test_the_window_attention_counts_the_multiply_adds_torch_counts():
    from torch.utils.flop_counter import FlopCounterMode
    torch.manual_seed(0)
    source = swin.ShiftedWindowAttention(8, [4, 4], [2, 2], 2)
    doc = imports_exactly(source, (8, 8, 8))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        source(torch.randn(2, 8, 8, 8))
    assert doc.analyze().macs == counter.get_total_flops() // 2 // 2 > 0


def test_a_maxvit_layer_imports_exactly():
    torch.manual_seed(0)
    source = maxvit.MaxVitLayer(8, 16, squeeze_ratio=0.25, expansion_ratio=4, stride=2,
                                norm_layer=partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01),
                                activation_layer=nn.GELU, head_dim=4, mlp_ratio=2, mlp_dropout=0.0,
                                attention_dropout=0.0, p_stochastic_dropout=0.0, partition_size=4,
                                grid_size=(4, 4))
    imports_exactly(source, (8, 8, 8))


class _Stage(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.conv(x)) + x


class _Iterated(nn.Module):
    """Blocks in a ModuleList the forward loops over (as MaxViT's are): torch.fx records no call
    of the list, so its path is in no scope."""

    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([_Stage(), _Stage(), _Stage()])

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        return x


def test_blocks_of_a_module_list_the_forward_loops_over_become_composites():
    torch.manual_seed(0)
    doc = imports_exactly(_Iterated(), (4, 6, 6))
    top = {n.id: n.type for n in doc.graph.nodes.values()}
    assert top == {"x": "Input", "stages_0": "Stage", "stages_1": "Stage", "stages_2": "Stage", "out": "Output"}


def test_whole_numbers_are_a_fixed_buffer_and_input_kinds_are_written_plainly():
    from designer.graph.errors import ParamError
    from designer.graph.model import Graph
    g = Graph()
    g.add_node("Parameter", {"shape": [4], "learned": True, "dtype": "int64"}, id="index")
    g.add_node("Output", {"name": "out"}, id="out")
    g.connect("index", "out")
    assert ("index", "int64 values cannot be learned: turn 'learned' off to keep them as a fixed buffer") \
        in g.analyze().errors
    with pytest.raises(ParamError, match=r"^unbatched: 'one' is not a list of inputs like 0,2$"):
        Graph().add_node("TorchFunction", {"unbatched": "one"})
    with pytest.raises(ParamError, match=r"^dtypes: '1:int65' is not a list of inputs like 1:int64$"):
        Graph().add_node("TorchFunction", {"dtypes": "1:int65"})


def test_the_python_export_of_an_imported_swin_block_says_it_needs_torchvision(tmp_path):
    from designer.compile.errors import ExportError
    from designer.compile.export import export_python
    torch.manual_seed(0)
    imported = import_network(swin.ShiftedWindowAttention(8, [4, 4], [0, 0], 2).eval(), (8, 8, 8))
    with pytest.raises(ExportError, match=r"^the Python export writes torch alone, and torchvision\.models\."
                                          r"swin_transformer\.shifted_window_attention is torchvision's: "
                                          r"export to \.pt2 instead$"):
        export_python(imported.graph, tmp_path / "swin.py")
