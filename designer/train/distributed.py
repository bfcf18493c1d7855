"""Several processes, one run: `torchrun --nproc_per_node=N python -m designer train …`.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; with WORLD_SIZE > 1 the engine joins
the process group (NCCL on GPUs, gloo on CPUs), wraps the networks in
DistributedDataParallel, takes batch_size / N images per process, reduces the
metrics across processes, and lets only rank 0 write files and send events.
Multi-node torchrun works the same way (--nnodes, --rdzv-endpoint).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Processes:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    started_here: bool = False

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def all_reduce_sum(self, t: torch.Tensor) -> torch.Tensor:
        if self.enabled:
            t = t.clone()
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        if self.started_here and dist.is_initialized():
            dist.destroy_process_group()


def from_env(device_request: str) -> Processes:
    """Join the process group when launched by torchrun with several processes."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Processes()
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if dist.is_initialized():
        return Processes(rank, world, local, False)
    gpu = device_request in ("auto", "cuda") and torch.cuda.is_available()
    if gpu:
        torch.cuda.set_device(local % torch.cuda.device_count())
    dist.init_process_group(backend="nccl" if gpu else "gloo")
    return Processes(dist.get_rank(), dist.get_world_size(), local, True)
