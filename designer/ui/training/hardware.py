"""What this computer can train on, found without importing torch into the window's
process: a short child process asks the same PyTorch the training worker will use
(so a CPU-only build on a machine with a GPU is reported truthfully), and never
creates a CUDA context in the window. GPU memory in use by a run is read from
nvidia-smi for the worker's process id. Qt-free: call these from a thread.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

PROBE = r"""
import json
import torch
out = {"torch": torch.__version__, "cuda": [], "mps": False}
if torch.cuda.is_available():
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        out["cuda"].append({"index": i, "name": p.name, "memory": int(p.total_memory)})
mps = getattr(torch.backends, "mps", None)
out["mps"] = bool(mps and mps.is_available())
print("PROBE " + json.dumps(out))
"""


@dataclass(frozen=True)
class DeviceChoice:
    value: str          # TrainConfig.device: auto | cpu | cuda | mps
    label: str
    detail: str = ""    # a tooltip: what it is, or why it is not offered


def cpu_choice() -> DeviceChoice:
    cores = os.cpu_count() or 1
    return DeviceChoice("cpu", f"CPU ({cores} core{'s' if cores != 1 else ''})",
                        "Trains on the processor; slow for large networks but always there")


def probe_devices(timeout: float = 120.0) -> tuple[list[DeviceChoice], str]:
    """(the accelerators PyTorch sees, a note when none can be used or the probe failed)."""
    try:
        done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, PYTHONWARNINGS="ignore"))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"PyTorch could not be asked about GPUs ({type(exc).__name__})"
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("PROBE ")), None)
    if line is None:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [], f"PyTorch could not be asked about GPUs: {tail}"
    return parse_probe(json.loads(line[len("PROBE "):]))


def parse_probe(found: dict) -> tuple[list[DeviceChoice], str]:
    choices = []
    gpus = found.get("cuda") or []
    if gpus:
        # TrainConfig has one "cuda" device (the first GPU, or one per process under torchrun)
        first = gpus[0]
        more = f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else ""
        detail = f"CUDA device 0 with {gib(first['memory'])} of memory; PyTorch {found.get('torch')}"
        choices.append(DeviceChoice("cuda", f"GPU: {first['name']}, {gib(first['memory'])}{more}", detail))
    if found.get("mps"):
        choices.append(DeviceChoice("mps", "GPU: Apple (MPS)", "Apple's Metal Performance Shaders"))
    note = "" if choices else f"No GPU that PyTorch {found.get('torch', '')} can use; training runs on the CPU"
    return choices, note


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB"


def gpu_memory_of(pid: int) -> int | None:
    """Bytes of GPU memory the process `pid` holds (all GPUs together), or None when
    nvidia-smi is not there or does not list the process."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_compute_apps(done.stdout, pid)


def parse_compute_apps(text: str, pid: int) -> int | None:
    total, seen = 0, False
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 2 and parts[0] == str(pid):
            try:
                total += int(float(parts[1])) * 2**20   # MiB
                seen = True
            except ValueError:
                continue
    return total if seen else None
