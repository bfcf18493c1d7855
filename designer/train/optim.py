"""Optimizers and learning-rate schedules from the settings.

    constant   the learning rate as given
    step       × gamma every `step_size` epochs
    cosine     cosine decay to 0 over the whole run, per step
    onecycle   warm up to lr and anneal (Smith's one-cycle), per step
    plateau    × gamma when the validation loss has not improved for `patience`
               epochs (AlexNet: "divide by 10 when the validation error stops improving")
"""
from __future__ import annotations

import torch

from .config import TrainConfig


def make_optimizer(params, config: TrainConfig, adam_betas=(0.9, 0.999)) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    if not params:
        from .errors import TrainSetupError
        raise TrainSetupError("Nothing to train: every block with weights is frozen (trainable is off).")
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                               weight_decay=config.weight_decay)
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    return cls(params, lr=config.lr, betas=adam_betas, weight_decay=config.weight_decay)


class Schedule:
    """One optimizer's schedule and when it is stepped: after each step, each epoch,
    or each epoch with the validation loss."""

    def __init__(self, optimizer, config: TrainConfig, steps_per_epoch: int, total_steps: int):
        self.kind = config.schedule
        self.scheduler = None
        s = torch.optim.lr_scheduler
        if self.kind == "step":
            self.scheduler = s.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
        elif self.kind == "cosine":
            self.scheduler = s.CosineAnnealingLR(optimizer, T_max=max(total_steps, 1))
        elif self.kind == "onecycle":
            self.total = max(total_steps, 1)
            self.scheduler = s.OneCycleLR(optimizer, max_lr=config.lr, total_steps=self.total)
        elif self.kind == "plateau":
            self.scheduler = s.ReduceLROnPlateau(optimizer, mode="min", factor=config.gamma,
                                                 patience=config.patience)
        self.optimizer = optimizer
        self.steps = 0

    @property
    def per_step(self) -> bool:
        return self.kind in ("cosine", "onecycle")

    def after_step(self) -> None:
        if not self.per_step:
            return
        self.steps += 1
        if self.kind == "onecycle" and self.steps >= self.total:
            return  # OneCycleLR refuses to go past its last step
        self.scheduler.step()

    def after_epoch(self, val_loss: float | None) -> None:
        if self.kind == "step":
            self.scheduler.step()
        elif self.kind == "plateau" and val_loss is not None:
            self.scheduler.step(val_loss)

    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict:
        return {"steps": self.steps, "scheduler": self.scheduler.state_dict() if self.scheduler else None}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
