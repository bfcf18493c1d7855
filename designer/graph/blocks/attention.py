"""Multi-head attention (Vaswani et al. 2017) as PyTorch's nn.MultiheadAttention with the batch
first: sequences L×E in, L×E out. The embedding sizes come from the inputs."""
from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import count, shape as fmt_shape
from ..params import Param


def _mha_infer(p, ins):
    q, k, v = ins["query"], ins["key"], ins["value"]
    for name, s in (("query", q), ("key", k), ("value", v)):
        if len(s) != 2:
            raise ShapeError(f"attention needs sequences L×E; the {name} is {fmt_shape(s)}")
    (lq, e), (lk, kdim), (lv, vdim) = q, k, v
    if lk != lv:
        raise ShapeError(f"key and value need the same length: {lk} and {lv}")
    h = p["num_heads"]
    if e % h:
        raise ShapeError(f"{h} heads must divide the embedding size {e}")
    b = p["bias"]
    weights = e * e + e * kdim + e * vdim + e * e      # q, k, v projections and the output projection
    biases = 4 * e if b else 0
    macs = lq * e * e + lk * e * kdim + lv * e * vdim + 2 * lq * lk * e + lq * e * e
    wf = f"{e}×{e} + {e}×{kdim} + {e}×{vdim} + {e}×{e}"
    return Inference({"out": (lq, e)}, weights, biases, macs, resolved={"embed_dim": e, "kdim": kdim, "vdim": vdim},
                     shape_formula=f"{lq} queries × {e}, {h} heads of {e // h}",
                     param_formula=f"{wf} + {biases} = {count(weights + biases)}" if b else
                     f"{wf} = {count(weights)}", weight_formula=f"({wf})")


def _mha_build(p, ins):
    from designer.layers import MultiheadAttention
    e, kdim, vdim = ins["query"][1], ins["key"][1], ins["value"][1]
    return MultiheadAttention(e, p["num_heads"], dropout=p["dropout"], bias=p["bias"], kdim=kdim, vdim=vdim,
                              batch_first=True)


register(BlockSpec("MultiheadAttention", "Dense",
                   "Scaled dot-product attention in several heads: each query looks at every key and takes a "
                   "weighted mean of the values. Self-attention: connect one input to all three.",
                   (Param("num_heads", "int", 8, "Heads (they split the embedding size).", min=1, max=1024),
                    Param("dropout", "float", 0.0, "Dropout on the attention weights while training.", min=0, max=1),
                    Param("bias", "bool", True, "Biases in the projections.")),
                   _mha_infer, _mha_build, inputs=("query", "key", "value"),
                   summary=lambda p: f"attention, {p['num_heads']} heads"))
