"""Classification: the network's output is one score per class. Cross-entropy;
accuracy, top-5 accuracy where there are ten classes or more, a confusion matrix.

A network that ends in Softmax or LogSoftmax is trained on the log of its
probabilities (negative log-likelihood), which is the same cross-entropy."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from designer.graph.format import shape as fmt_shape

from ..errors import TrainSetupError
from ..images import grid, to_rgb_uint8
from .base import Batch, Meter, StepContext, Task, compile_network, final_block


class Classification(Task):
    name = "classification"
    best = ("accuracy", "max")

    def __init__(self, graph, source, config, analysis):
        super().__init__(graph, source, config)
        self.analysis = analysis
        k = source.num_classes
        self.num_classes = k
        self.metric_names = ("accuracy", "top5") if k >= 10 else ("accuracy",)
        node_id, _ = analysis.outputs[0]
        self.head = final_block(graph, node_id)
        self.check()

    def check(self):
        a, src = self.analysis, self.source
        if len(a.outputs) != 1:
            raise TrainSetupError(f"A classifier needs one output, but the network has {len(a.outputs)}; "
                                  "keep one Output block for the class scores.")
        shape = tuple(next(iter(a.output_shapes.values())))
        scores = shape[0] if shape and math.prod(shape[1:]) == 1 else None
        if scores is None:
            raise TrainSetupError(f"A classifier must end in one score per class, but the network outputs "
                                  f"{fmt_shape(shape)}; end it with Flatten and Linear({src.num_classes}).")
        if scores != src.num_classes:
            raise TrainSetupError(f"The network ends in {scores} outputs but {src.name} has "
                                  f"{src.num_classes} classes; set the last layer to {src.num_classes} outputs.")

    def build(self):
        self.nets["model"] = compile_network(self.graph, None, self._input_override(), self.weights)
        return self.nets

    def _input_override(self):
        return self.source.input_shape if self.config.image_size is not None else None

    def _log_probs(self, out: torch.Tensor) -> torch.Tensor | None:
        out = out.reshape(out.shape[0], -1).float()
        if self.head == "LogSoftmax":
            return out
        if self.head == "Softmax":
            return out.clamp_min(1e-12).log()
        return None

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logp = self._log_probs(out)
        if logp is not None:
            return F.nll_loss(logp, y)
        return F.cross_entropy(out.reshape(out.shape[0], -1).float(), y)

    def train_step(self, batch: Batch, ctx: StepContext, meter: Meter):
        x, y = batch.x, batch.y
        with ctx.autocast():
            out = self.train_nets["model"](x)
        loss = self._loss(out, y)
        ctx.optimize(loss)
        loss = loss.detach()
        pred = out.detach().reshape(out.shape[0], -1).argmax(1)
        n = float(y.shape[0])
        meter.add("loss", loss * n)
        meter.add("correct", (pred == y).sum())
        meter.count("count", n)
        return loss[None]

    @torch.no_grad()
    def eval_batch(self, batch, ctx, meter):
        x, y = batch.x, batch.y
        with ctx.autocast():
            out = self.nets["model"](x)
        scores = out.reshape(out.shape[0], -1).float()
        loss = self._loss(scores, y)
        n = float(y.shape[0])
        pred = scores.argmax(1)
        meter.add("loss", loss * n)
        meter.add("correct", (pred == y).sum())
        meter.count("count", n)
        if self.num_classes >= 10:
            top5 = scores.topk(5, 1).indices
            meter.add("top5", (top5 == y[:, None]).any(1).sum())
        k = self.num_classes
        meter.add("confusion", torch.bincount(y * k + pred, minlength=k * k).reshape(k, k))

    def summarize(self, t):
        count = max(float(t["count"]), 1.0)
        out = {"loss": float(t["loss"]) / count, "accuracy": float(t["correct"]) / count}
        if "top5" in t:
            out["top5"] = float(t["top5"]) / count
        if "confusion" in t:
            out["confusion"] = t["confusion"].to(torch.int64).tolist()
        return out

    @torch.no_grad()
    def epoch_images(self, batch, ctx):
        """Up to 16 validation images with the predicted and the true class."""
        x, y = batch.x[:16], batch.y[:16]
        with ctx.autocast():
            out = self.nets["model"](x)
        pred = out.reshape(out.shape[0], -1).argmax(1)
        return {"images": {"predictions": grid(to_rgb_uint8(batch.images[:16]), 8)},
                "predictions": {"predicted": pred.tolist(), "true": y.tolist(), "columns": 8}}
