"""Small documents several test files build the same way."""
from designer.graph import Graph


def tiny_gan(frozen_discriminator_head: bool = True) -> Graph:
    """Two networks in one document: generator z(16) → 1×8×8, discriminator 1×8×8 → 1 logit."""
    g = Graph()
    g.add_node("Input", {"shape": [16], "name": "z"}, id="z", network="generator")
    g.add_node("Linear", {"out_features": 64}, id="g_fc", network="generator")
    g.add_node("Reshape", {"shape": [1, 8, 8]}, id="g_img", network="generator")
    g.add_node("Tanh", id="g_out", network="generator")
    g.chain("z", "g_fc", "g_img", "g_out")
    g.add_node("Input", {"shape": [1, 8, 8], "name": "image"}, id="img", network="discriminator")
    g.add_node("Flatten", id="d_flat", network="discriminator")
    g.add_node("Linear", {"out_features": 1}, id="d_fc", network="discriminator",
               trainable=not frozen_discriminator_head)
    g.chain("img", "d_flat", "d_fc")
    return g


def module_outputs(graph, x, seed: int = 0, state=None) -> dict:
    """Every top-level module's output (and "__result__") for one sample `x`, by forward hooks
    on a plainly compiled copy seeded with `seed` (then given `state`, if any): the reference
    the feature maps are held to."""
    import torch
    from designer.compile import compile_graph
    torch.manual_seed(seed)
    model = compile_graph(graph).eval()
    if state is not None:
        model.load_state_dict(state)
    seen = {}
    for name, module in model.named_children():
        module.register_forward_hook(lambda _m, _i, out, name=name: seen.__setitem__(name, out[0]))
    with torch.no_grad():
        seen["__result__"] = model(x[None])[0]
    return seen
