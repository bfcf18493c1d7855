"""Generative adversarial network: one document holding two networks, named
"generator" (noise → image) and "discriminator" (image → one score).

Each batch takes two steps, as Goodfellow et al. alternate them: the
discriminator learns to score real images 1 and generated ones 0, then the
generator learns to make the discriminator say 1 (the non-saturating loss).
Real images are scaled to the generator's range: [−1, 1] unless it ends in
Sigmoid ([0, 1]). A discriminator that ends in Sigmoid is trained on its
probability, otherwise on its logit. With Adam, β₁ = 0.5 (the DCGAN recipe).
There is no validation set: each epoch shows a grid of samples from the same
fixed noise, so the grids can be compared, and best.pt is the last epoch."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from designer.graph.format import shape as fmt_shape

from ..errors import TrainSetupError
from ..images import grid, to_rgb_uint8
from .base import Batch, Meter, StepContext, Task, compile_network, final_block

GENERATOR, DISCRIMINATOR = "generator", "discriminator"
FIXED_NOISE = 64


def is_gan(graph) -> bool:
    nets = set(graph.networks())
    return GENERATOR in nets and DISCRIMINATOR in nets


def network_input(graph, analysis, network: str) -> tuple:
    inputs = [n for n in graph.nodes.values() if n.type == "Input" and n.network == network]
    if len(inputs) != 1:
        raise TrainSetupError(f"The {network} needs exactly one Input block, not {len(inputs)}.")
    shape = analysis.nodes[inputs[0].id].out_shapes.get("out")
    if not shape:
        raise TrainSetupError(f"The {network}'s Input has no shape.")
    return tuple(shape)


def network_outputs(analysis, graph, network: str) -> list[tuple[str, tuple]]:
    out = []
    for node_id, name in analysis.outputs:
        if graph.nodes[node_id].network == network:
            out.append((node_id, tuple(analysis.output_shapes.get(f"{network}.{name}", ()))))
    return out


class GAN(Task):
    name = "gan"
    step_names = ("loss", "d_loss", "g_loss", "d_real", "d_fake")
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")
    best = None
    has_validation = False
    adam_betas = (0.5, 0.999)

    def __init__(self, graph, source, config, analysis):
        super().__init__(graph, source, config)
        self.analysis = analysis
        self.check()

    def check(self):
        g, a, src = self.graph, self.analysis, self.source
        if self.config.image_size is not None:
            raise TrainSetupError("image_size cannot change a GAN's images: the generator decides their size.")
        self.noise_shape = network_input(g, a, GENERATOR)
        gen_out = network_outputs(a, g, GENERATOR)
        dis_out = network_outputs(a, g, DISCRIMINATOR)
        if len(gen_out) != 1 or len(dis_out) != 1:
            raise TrainSetupError("The generator and the discriminator need one output each.")
        image = tuple(src.input_shape)
        if math.prod(gen_out[0][1]) != math.prod(image):
            raise TrainSetupError(f"The generator makes {fmt_shape(gen_out[0][1])} but the discriminator takes "
                                  f"{fmt_shape(image)}; they must match.")
        if math.prod(dis_out[0][1]) != 1:
            raise TrainSetupError(f"The discriminator must end in one score per image, not "
                                  f"{fmt_shape(dis_out[0][1])}.")
        self.gen_head = final_block(g, gen_out[0][0])
        self.dis_sigmoid = final_block(g, dis_out[0][0]) == "Sigmoid"

    @property
    def data_range(self):
        return (0.0, 1.0) if self.gen_head == "Sigmoid" else (-1.0, 1.0)

    @property
    def uses_normalize(self) -> bool:
        return False  # the generator's range decides the scale of the real images

    def describe(self):
        low, high = self.data_range
        return f"gan (noise {fmt_shape(self.noise_shape)} → images in [{low:g}, {high:g}])"

    def build(self):
        self.nets[GENERATOR] = compile_network(self.graph, GENERATOR, None, self.weights)
        self.nets[DISCRIMINATOR] = compile_network(self.graph, DISCRIMINATOR, None, self.weights)
        gen = torch.Generator().manual_seed(self.config.seed)
        self.fixed_noise = torch.randn((FIXED_NOISE,) + self.noise_shape, generator=gen)
        return self.nets

    def _bce(self, score: torch.Tensor, target: float) -> torch.Tensor:
        score = score.float().reshape(-1)
        want = torch.full_like(score, target)
        if self.dis_sigmoid:
            return F.binary_cross_entropy(score.clamp(1e-6, 1 - 1e-6), want)
        return F.binary_cross_entropy_with_logits(score, want)

    def _prob(self, score: torch.Tensor) -> torch.Tensor:
        score = score.detach().float().reshape(-1)
        return (score if self.dis_sigmoid else torch.sigmoid(score)).mean()

    def train_step(self, batch: Batch, ctx: StepContext, meter: Meter):
        gen, dis = self.train_nets[GENERATOR], self.train_nets[DISCRIMINATOR]
        real = batch.x
        n = real.shape[0]
        z = torch.randn((n,) + self.noise_shape, device=real.device)
        # the discriminator sees real and fake images in separate batches (each its own
        # batch-norm statistics, as in DCGAN), one backward per forward (as DDP wants)
        ctx.zero_grad(DISCRIMINATOR)
        with ctx.autocast():
            on_real = dis(real)
        loss_real = self._bce(on_real, 1.0)
        ctx.backward(loss_real, DISCRIMINATOR)
        with ctx.autocast():
            fake = gen(z).reshape(real.shape)
            on_fake = dis(fake.detach())
        loss_fake = self._bce(on_fake, 0.0)
        ctx.backward(loss_fake, DISCRIMINATOR)
        ctx.step(DISCRIMINATOR)
        with ctx.autocast():
            fooled = dis(fake)
        g_loss = self._bce(fooled, 1.0)
        ctx.optimize(g_loss, GENERATOR)
        d_loss = (loss_real + loss_fake).detach()
        g_loss = g_loss.detach()
        values = torch.stack([d_loss + g_loss, d_loss, g_loss, self._prob(on_real), self._prob(on_fake)])
        count = float(n)
        meter.add("sums", values * count)
        meter.count("count", count)
        return values

    def summarize(self, t):
        n = max(float(t["count"]), 1.0)
        return dict(zip(self.step_names, (float(v) / n for v in t["sums"])))

    @torch.no_grad()
    def epoch_images(self, batch, ctx):
        """"samples": the generator's images for the same 64 noise vectors every epoch."""
        gen = self.nets[GENERATOR]
        with ctx.autocast():
            fake = gen(self.fixed_noise.to(batch.x.device))
        low, high = self.data_range
        images = fake.float().reshape((fake.shape[0],) + tuple(self.source.image_shape))
        return {"images": {"samples": grid(to_rgb_uint8(images, low, high), 8)}}

    def export_module(self):
        return self.nets[GENERATOR]
