"""Interleaved, repeated measurement of two implementations of the same operation.

The machine is shared and noisy, so a number on its own means little. Each
round times one batch on the adapter and one on the baseline, back to back,
alternating which goes first; the result is the median over rounds of each
side's ops/s and the median of the per-round ratios (paired, so a slow moment
hits both sides of the ratio alike).

Two clocks are read around every batch: wall time, and this process's CPU time
(user + system). On SQLite all the work, the engine's included, is this
process's CPU, so CPU time measures it without the time other processes take
the core away; on PostgreSQL the server's work is elsewhere and only wall time
counts. ``clock`` says which one the ratio uses.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

Args = tuple[Any, ...]


@dataclass
class Result:
    name: str
    kind: str
    target: float | None
    clock: str
    batch: int
    adapter_ops: float
    baseline_ops: float
    ratio: float
    ratio_min: float
    ratio_max: float
    adapter_rounds: list[float]
    baseline_rounds: list[float]
    adapter_wall_ops: float
    baseline_wall_ops: float
    wall_ratio: float

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["meets_target"] = self.ok
        return data


def time_batch(call: Callable[..., Any], args: list[Args]) -> tuple[float, float]:
    """Ops per second of ``call(*a)`` over ``args``: by wall time, and by CPU time."""
    gc.collect()
    wall = time.perf_counter()
    cpu = time.process_time()
    for a in args:
        call(*a)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    return len(args) / wall, len(args) / max(cpu, 1e-9)


def calibrate(call: Callable[..., Any], make: Callable[[int], list[Args]], seconds: float) -> int:
    """The batch size for which ``call`` takes about ``seconds`` (also warms caches)."""
    args = make(50)
    rate = time_batch(call, args)[0]
    return max(50, min(20_000, int(rate * seconds)))


def compare(
    name: str,
    kind: str,
    target: float | None,
    adapter_call: Callable[..., Any],
    baseline_call: Callable[..., Any],
    make: Callable[[int], list[Args]],
    rounds: int,
    seconds: float,
    clock: str = "wall",
) -> Result:
    """Run ``rounds`` interleaved rounds of both sides; medians and the paired ratio by ``clock``."""
    batch = calibrate(adapter_call, make, seconds)
    time_batch(baseline_call, make(50))
    wall: dict[str, list[float]] = {"adapter": [], "baseline": []}
    cpu: dict[str, list[float]] = {"adapter": [], "baseline": []}
    calls = {"adapter": adapter_call, "baseline": baseline_call}
    for r in range(rounds):
        order = ("adapter", "baseline") if r % 2 == 0 else ("baseline", "adapter")
        for side in order:
            args = make(batch)
            by_wall, by_cpu = time_batch(calls[side], args)
            wall[side].append(by_wall)
            cpu[side].append(by_cpu)
    chosen = cpu if clock == "cpu" else wall
    ratios = [a / b for a, b in zip(chosen["adapter"], chosen["baseline"], strict=True)]
    wall_ratios = [a / b for a, b in zip(wall["adapter"], wall["baseline"], strict=True)]
    return Result(
        name=name,
        kind=kind,
        target=target,
        clock=clock,
        batch=batch,
        adapter_ops=statistics.median(chosen["adapter"]),
        baseline_ops=statistics.median(chosen["baseline"]),
        ratio=statistics.median(ratios),
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        adapter_rounds=chosen["adapter"],
        baseline_rounds=chosen["baseline"],
        adapter_wall_ops=statistics.median(wall["adapter"]),
        baseline_wall_ops=statistics.median(wall["baseline"]),
        wall_ratio=statistics.median(wall_ratios),
    )


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of already sorted values (nearest rank)."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]
