"""Measuring tools: step timing statistics, peak memory, FLOPs, machine description."""
import os
import platform
import time
from contextlib import contextmanager
from typing import Callable, Dict, List, Optional

import numpy as np
import psutil
import torch
from torch.utils.flop_counter import FlopCounterMode


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_steps(step: Callable[[], None], n: int, device: torch.device):
    """``(wall, cpu)``: wall-clock and process CPU seconds of each of ``n`` calls of ``step``,
    each synchronised with the device. On a CPU shared with other jobs the CPU time (all
    threads of this process) is the steadier measure of the work done."""
    wall, cpu = [], []
    for _ in range(n):
        sync(device)
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        sync(device)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def step_stats(seconds: List[float], batch_size: int,
               cpu_seconds: Optional[List[float]] = None) -> Dict[str, float]:
    """Median and spread of per-step wall times as images/s and s/image (``iqr``: 25-75 %),
    and the median process CPU time per image."""
    t = np.asarray(seconds, dtype=np.float64)
    q25, q50, q75 = np.percentile(t, [25, 50, 75])
    extra = {}
    if cpu_seconds:
        extra['median_cpu_s_per_image'] = float(np.median(cpu_seconds) / batch_size)
    return dict(steps=len(t), median_step_s=float(q50), **extra,
                median_s_per_image=float(q50 / batch_size),
                median_images_per_s=float(batch_size / q50),
                iqr_images_per_s=[float(batch_size / q75), float(batch_size / q25)],
                min_step_s=float(t.min()), max_step_s=float(t.max()))


def _read_hwm_kb() -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakMemory:
    """Peak memory of a block of work.

    CUDA: ``torch.cuda.max_memory_allocated`` (reset at ``start``). CPU: the process's peak
    resident set (Linux ``VmHWM``, reset at ``start`` through ``/proc/self/clear_refs``;
    elsewhere psutil's current RSS at ``stop``), i.e. weights + optimizer state + activations
    + allocator slack of the whole process.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.method = None
        self.rss_before_mb = None

    def start(self) -> None:
        if self.device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(self.device)
            self.method = 'torch.cuda.max_memory_allocated'
            return
        self.rss_before_mb = psutil.Process().memory_info().rss / 2**20
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')  # resets VmHWM to the current RSS
            self.method = 'process peak RSS (VmHWM, reset before the timed steps)'
        except OSError:
            self.method = 'process RSS after the timed steps (psutil)'

    def stop(self) -> Dict[str, float]:
        if self.device.type == 'cuda':
            return dict(peak_memory_mb=torch.cuda.max_memory_allocated(self.device) / 2**20,
                        memory_method=self.method)
        hwm = _read_hwm_kb() if 'VmHWM' in (self.method or '') else None
        peak = hwm / 1024 if hwm else psutil.Process().memory_info().rss / 2**20
        return dict(peak_memory_mb=peak, rss_before_steps_mb=self.rss_before_mb,
                    memory_method=self.method)


def count_flops(step: Callable[[], None]) -> int:
    """FLOPs of one call of ``step`` (matmuls, convolutions, attention; elementwise ops are
    not counted), by ``torch.utils.flop_counter.FlopCounterMode``."""
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return int(counter.get_total_flops())


@contextmanager
def torch_threads(n: Optional[int]):
    """Run with ``n`` intra-op threads (None: leave torch's setting)."""
    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def machine_info(device: torch.device) -> dict:
    info = dict(device=str(device), torch=torch.__version__, python=platform.python_version(),
                cpu=platform.processor() or platform.machine(), cpu_model=_cpu_model(),
                usable_cpus=len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
                else os.cpu_count(), torch_threads=torch.get_num_threads(),
                load_average_1min=os.getloadavg()[0] if hasattr(os, 'getloadavg') else None)
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
    return info


def _cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


__all__ = ['PeakMemory', 'count_flops', 'machine_info', 'step_stats', 'sync', 'time_steps',
           'torch_threads']
