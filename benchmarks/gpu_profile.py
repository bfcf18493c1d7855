"""ResNet-50 at 224×224 on a GPU: is the largest batch `designer profile` reports the real one?

    .venv/bin/python benchmarks/gpu_profile.py [--preset resnet50] [--batch-sizes 1,32,128] [--amp]

Without CUDA it says so and exits 0 (it was written on a machine without a GPU).

1. `profile_graph(..., device="cuda")` measures the batch sizes and searches the largest
   batch that fits by trying (an out-of-memory error is caught, the cache emptied, and the
   search goes on); the whole profile is printed.
2. In a fresh process, one training step at that largest batch: it must not run out of memory.
3. In another fresh process, one step at ⌈largest × 1.25⌉: it must run out of memory.

Each part runs in its own spawned process, so none of them shares a CUDA context or an
allocator cache with another (the parent never touches the GPU). Exits 1 when 2 or 3 fails.
"""
from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _profile(preset: str, sizes: list[int], amp: bool) -> dict:
    from designer import load_graph
    from designer.train.profile import profile_graph
    result = profile_graph(load_graph(preset).graph, sizes, device="cuda", amp=amp,
                           on_progress=lambda text: print(f"  … {text}", flush=True))
    return result.to_message()


def _fits(preset: str, batch: int, amp: bool) -> bool:
    from designer import load_graph
    from designer.train.profile import one_step_fits
    return one_step_fits(load_graph(preset).graph, batch, device="cuda", amp=amp)


def _in_fresh_process(fn, *args):
    with mp.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(fn, args)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="resnet50")
    parser.add_argument("--batch-sizes", default="1,32,128")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast")
    args = parser.parse_args(argv)
    import torch
    if not torch.cuda.is_available():
        print("gpu_profile: no CUDA GPU here; nothing measured (skipped).")
        return 0
    from designer.train.profile import Profile, as_text
    sizes = [int(v) for v in args.batch_sizes.split(",")]
    start = time.perf_counter()
    result = Profile.from_message(_in_fresh_process(_profile, args.preset, sizes, args.amp))
    print(as_text(result))
    print(f"(profile with the search: {time.perf_counter() - start:.0f} s)")
    largest = result.largest_batch
    over = math.ceil(largest * 1.25)
    fits = _in_fresh_process(_fits, args.preset, largest, args.amp)
    print(f"fresh process, batch {largest:,} (reported largest): "
          f"{'one training step ran' if fits else 'OUT OF MEMORY'}   target: runs")
    too_big = _in_fresh_process(_fits, args.preset, over, args.amp)
    print(f"fresh process, batch {over:,} (largest + 25 %): "
          f"{'one training step ran' if too_big else 'out of memory'}   target: out of memory")
    ok = fits and not too_big and result.largest_batch_method == "tried"
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
