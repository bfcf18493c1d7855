"""Segmentation: the network outputs one score map per class (K×h×w) and learns a
class per pixel. Per-pixel cross-entropy; pixel accuracy and mean IoU.

U-Net's valid convolutions make the output smaller than the input (388 from 572);
the output covers the centre of the image, so the mask is centre-cropped to it.
A two-class network trained on a dataset with more mask classes learns
foreground against background."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from designer.graph.format import shape as fmt_shape

from ..errors import TrainSetupError
from ..images import colour_masks, grid, pad_to, to_rgb_uint8
from .base import Batch, Meter, StepContext, Task, compile_network


def centre_crop(t: torch.Tensor, h: int, w: int) -> torch.Tensor:
    top = (t.shape[-2] - h) // 2
    left = (t.shape[-1] - w) // 2
    return t[..., top:top + h, left:left + w]


class Segmentation(Task):
    name = "segmentation"
    metric_names = ("pixel_accuracy", "mean_iou")
    best = ("mean_iou", "max")

    def __init__(self, graph, source, config, analysis):
        super().__init__(graph, source, config)
        self.analysis = analysis
        self.check()

    def check(self):
        a, src = self.analysis, self.source
        if not src.has_masks:
            raise TrainSetupError(f"This network outputs maps ({fmt_shape(next(iter(a.output_shapes.values())))}), "
                                  f"a segmentation, but {src.name} has no masks; train it on shapes.")
        if len(a.outputs) != 1:
            raise TrainSetupError(f"A segmentation network needs one output, not {len(a.outputs)}.")
        k, h, w = next(iter(a.output_shapes.values()))
        _, H, W = src.image_shape
        if k not in (2, src.mask_classes):
            raise TrainSetupError(f"The network outputs {k} maps but {src.name} has {src.mask_classes} mask "
                                  f"classes (background included); use {src.mask_classes} maps, or 2 for "
                                  "foreground against background.")
        if h > H or w > W:
            raise TrainSetupError(f"The network's output ({h}×{w}) is larger than its input ({H}×{W}), "
                                  "so no mask can be aligned with it.")
        self.num_classes, self.out_hw = k, (h, w)
        self.binary = k == 2 and src.mask_classes > 2

    def build(self):
        override = self.source.input_shape if self.config.image_size is not None else None
        self.nets["model"] = compile_network(self.graph, None, override, self.weights)
        return self.nets

    def _target(self, mask: torch.Tensor) -> torch.Tensor:
        m = centre_crop(mask, *self.out_hw).long()
        return (m > 0).long() if self.binary else m

    def train_step(self, batch: Batch, ctx: StepContext, meter: Meter):
        with ctx.autocast():
            out = self.train_nets["model"](batch.x)
        target = self._target(batch.mask)
        loss = F.cross_entropy(out.float(), target)
        ctx.optimize(loss)
        loss = loss.detach()
        n = float(len(batch))
        meter.add("loss", loss * n)
        meter.count("count", n)
        meter.add("correct", (out.detach().argmax(1) == target).sum())
        meter.count("pixels", target.numel())
        return loss[None]

    @torch.no_grad()
    def eval_batch(self, batch, ctx, meter):
        with ctx.autocast():
            out = self.nets["model"](batch.x)
        target = self._target(batch.mask)
        loss = F.cross_entropy(out.float(), target)
        n = float(len(batch))
        pred = out.argmax(1)
        k = self.num_classes
        meter.add("loss", loss * n)
        meter.count("count", n)
        meter.add("correct", (pred == target).sum())
        meter.count("pixels", target.numel())
        meter.add("confusion", torch.bincount((target * k + pred).flatten(), minlength=k * k).reshape(k, k))

    def summarize(self, t):
        out = {"loss": float(t["loss"]) / max(float(t["count"]), 1.0),
               "pixel_accuracy": float(t["correct"]) / max(float(t["pixels"]), 1.0)}
        if "confusion" in t:
            out["mean_iou"] = mean_iou(t["confusion"])
            out["confusion"] = t["confusion"].to(torch.int64).tolist()
        return out

    @torch.no_grad()
    def epoch_images(self, batch, ctx):
        """Rows of (image, true mask, predicted mask) for up to 6 validation images."""
        n = min(6, len(batch))
        with ctx.autocast():
            out = self.nets["model"](batch.x[:n])
        pred = out.argmax(1)
        images = to_rgb_uint8(batch.images[:n])
        h, w = images.shape[1:3]
        truth = pad_to(colour_masks(self._target(batch.mask[:n])), h, w)
        guess = pad_to(colour_masks(pred), h, w)
        triples = [p for i in range(n) for p in (images[i], truth[i], guess[i])]
        return {"images": {"segmentation": grid(np.stack(triples), 3)}}


def mean_iou(confusion: torch.Tensor) -> float:
    """Mean over the classes that occur (in truth or prediction) of TP / (TP + FP + FN)."""
    c = confusion.to(torch.float64)
    tp = c.diag()
    union = c.sum(0) + c.sum(1) - tp
    present = union > 0
    return float((tp[present] / union[present]).mean()) if present.any() else 0.0
