"""Which device trains, and at what precision: `auto` takes CUDA, then Apple's
MPS, then the CPU; mixed precision (bf16 / fp16 autocast) only on GPUs."""
from __future__ import annotations

import torch

from .errors import TrainSetupError


def pick_device(requested: str, local_rank: int = 0) -> torch.device:
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("mps") if has_mps else torch.device("cpu")
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise TrainSetupError("CUDA was asked for, but this PyTorch sees no CUDA GPU; use --device cpu or auto.")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if requested == "mps":
        if not has_mps:
            raise TrainSetupError("Apple's MPS was asked for, but it is not available here; use cpu or auto.")
        return torch.device("mps")
    return torch.device("cpu")


def amp_dtype(mode: str, device: torch.device) -> tuple[torch.dtype | None, str]:
    """(autocast dtype or None, a note for the log when the request is not honoured)."""
    if mode == "off":
        return None, ""
    if device.type != "cuda":
        return None, f"mixed precision ({mode}) is for GPUs; training in float32 on {device.type}"
    if mode == "bf16" and not torch.cuda.is_bf16_supported():
        return torch.float16, "this GPU lacks bf16; using fp16 with gradient scaling"
    return (torch.bfloat16 if mode == "bf16" else torch.float16), ""


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"cpu ({n} thread{'s' if n != 1 else ''})"
    return str(device)


def tune_for(device: torch.device) -> None:
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
