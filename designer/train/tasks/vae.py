"""Variational auto-encoder: a graph with one Reparameterize block whose outputs
are the reconstruction and, where the graph returns them, μ and log σ².

Loss per image: reconstruction (binary cross-entropy when the reconstruction
ends in Sigmoid, squared error otherwise, summed over pixels) plus the KL
divergence of N(μ, σ²) from N(0, I), summed over the latent values.

Where the graph does not return μ and log σ², they are read from the inputs of
the Reparameterize block as it runs (a forward hook).

Samples: the decoder is the part of the graph after Reparameterize. To sample,
the whole network is run once on a blank batch while a forward hook replaces
Reparameterize's output with z ~ N(0, I); the encoder's result is discarded and
the trained decoder turns each z into an image. No second network is built, so
the samples always come from exactly the weights being trained."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from designer.graph.format import shape as fmt_shape

from ..errors import TrainSetupError
from ..images import grid, to_rgb_uint8
from .base import Batch, Meter, StepContext, Task, compile_network, final_block, output_source


class VAE(Task):
    name = "vae"
    step_names = ("loss", "recon", "kl")
    metric_names = ("recon", "kl")
    best = ("loss", "min")

    def __init__(self, graph, source, config, analysis):
        super().__init__(graph, source, config)
        self.analysis = analysis
        self._captured: list = []
        self.layout()

    def layout(self):
        g, a, src = self.graph, self.analysis, self.source
        reps = [n for n in g.nodes.values() if n.type == "Reparameterize"]
        if len(reps) != 1:
            raise TrainSetupError(f"A VAE needs exactly one Reparameterize block, not {len(reps)}.")
        self.rep_id = reps[0].id
        feeds = {e.dst_port: (e.src, e.src_port) for e in g.edges_into(self.rep_id)}
        sources = [output_source(g, node_id) for node_id, _ in a.outputs]
        shapes = [a.output_shapes.get(name) for _, name in a.outputs]
        self.mu_index = sources.index(feeds["mu"]) if feeds.get("mu") in sources else None
        self.logvar_index = sources.index(feeds["logvar"]) if feeds.get("logvar") in sources else None
        image_values = math.prod(src.image_shape)
        recon = [i for i in range(len(sources)) if i not in (self.mu_index, self.logvar_index)]
        if len(recon) != 1:
            raise TrainSetupError("A VAE must return the reconstruction (and may return μ and log σ²); "
                                  f"this one returns {len(recon)} other outputs.")
        self.recon_index = recon[0]
        rshape = shapes[self.recon_index]
        if rshape is None or math.prod(rshape) != image_values:
            raise TrainSetupError(f"The reconstruction has the shape {fmt_shape(rshape or ())} but the images are "
                                  f"{fmt_shape(src.image_shape)}; the decoder must give back {image_values} values.")
        self.recon_shape = tuple(rshape)
        self.latent_shape = tuple(a.nodes[self.rep_id].out_shapes["out"])
        self.bce = final_block(g, a.outputs[self.recon_index][0]) == "Sigmoid"

    def describe(self):
        loss = "binary cross-entropy" if self.bce else "squared error"
        return f"vae ({loss} + KL, latent {fmt_shape(self.latent_shape)})"

    def build(self):
        override = self.source.input_shape if self.config.image_size is not None else None
        model = compile_network(self.graph, None, override, self.weights)
        self.nets["model"] = model
        if self.mu_index is None or self.logvar_index is None:
            try:
                rep = model.get_submodule(self.rep_id)
            except AttributeError:
                raise TrainSetupError("This VAE does not return μ and log σ²; add Output blocks fed by the "
                                      "inputs of its Reparameterize block.") from None
            self._hook = rep.register_forward_hook(self._capture)
        return self.nets

    def export_module(self):
        """The model without the μ / log σ² hook (TorchScript cannot compile a Python hook)."""
        if getattr(self, "_hook", None) is not None:
            self._hook.remove()
            self._hook = None
        return self.nets["model"]

    def _capture(self, module, args, output):
        self._captured[:] = list(args[:2])

    def _parts(self, out):
        outs = out if isinstance(out, (tuple, list)) else (out,)
        recon = outs[self.recon_index]
        if self.mu_index is not None and self.logvar_index is not None:
            return recon, outs[self.mu_index], outs[self.logvar_index]
        mu, logvar = self._captured
        return recon, mu, logvar

    def _losses(self, recon, mu, logvar, images):
        n = images.shape[0]
        target = images.reshape(recon.shape).float()
        recon = recon.float()
        if self.bce:
            rec = F.binary_cross_entropy(recon.clamp(1e-6, 1 - 1e-6), target, reduction="sum") / n
        else:
            rec = F.mse_loss(recon, target, reduction="sum") / n
        mu, logvar = mu.float(), logvar.float()
        kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp()) / n
        return rec + kl, rec, kl

    def train_step(self, batch: Batch, ctx: StepContext, meter: Meter):
        with ctx.autocast():
            out = self.train_nets["model"](batch.x)
        loss, rec, kl = self._losses(*self._parts(out), batch.images)
        ctx.optimize(loss)
        values = torch.stack([loss, rec, kl]).detach()
        n = float(len(batch))
        meter.add("sums", values * n)
        meter.count("count", n)
        return values

    @torch.no_grad()
    def eval_batch(self, batch, ctx, meter):
        """In evaluation Reparameterize passes μ on: the loss of the mean code."""
        with ctx.autocast():
            out = self.nets["model"](batch.x)
        values = torch.stack(self._losses(*self._parts(out), batch.images))
        n = float(len(batch))
        meter.add("sums", values * n)
        meter.count("count", n)

    def summarize(self, t):
        n = max(float(t["count"]), 1.0)
        loss, rec, kl = (float(v) / n for v in t["sums"])
        return {"loss": loss, "recon": rec, "kl": kl}

    def _pictures(self, flat: torch.Tensor) -> np.ndarray:
        images = flat.float().reshape((flat.shape[0],) + tuple(self.source.image_shape))
        return to_rgb_uint8(images.clamp(0, 1))

    @torch.no_grad()
    def epoch_images(self, batch, ctx):
        """"reconstructions": 8 validation images above their reconstructions (from μ);
        "samples": 16 decodings of z ~ N(0, I)."""
        model = self.nets["model"]
        n = min(8, len(batch))
        with ctx.autocast():
            recon = self._recon(model(batch.x[:n]))
        originals = to_rgb_uint8(batch.images[:n])
        rebuilt = self._pictures(recon)
        samples = self.sample(16, batch.x[:1], ctx)
        return {"images": {"reconstructions": grid(np.concatenate([originals, rebuilt]), n),
                           "samples": grid(self._pictures(samples), 8)}}

    def _recon(self, out):
        return out[self.recon_index] if isinstance(out, (tuple, list)) else out

    @torch.no_grad()
    def sample(self, count: int, like: torch.Tensor, ctx) -> torch.Tensor:
        model = self.nets["model"]
        z = torch.randn((count,) + self.latent_shape, device=like.device)
        handle = model.get_submodule(self.rep_id).register_forward_hook(lambda m, a, out: z.to(out.dtype))
        try:
            with ctx.autocast():
                out = model(torch.zeros((count,) + tuple(like.shape[1:]), device=like.device, dtype=like.dtype))
        finally:
            handle.remove()
        return self._recon(out)
