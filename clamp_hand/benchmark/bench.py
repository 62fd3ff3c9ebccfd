"""Training and inference throughput of a config: images/s, peak memory, FLOPs per image.

One *variant* is a config plus overrides (``cfg_options``), mixed precision and
``torch.compile``. :func:`run_benchmark` builds each variant (random weights), warms it up and
times ``steps`` steps per round; with several variants the rounds interleave (A B, B A, A B,
...) so that a shared, noisy machine slows all of them alike, and the ratio of each variant to
the first is reported as the median of the per-round ratios.

A training step is ``model.train_step`` (data preprocessor, forward, losses, backward,
optimizer step through the config's ``optim_wrapper``); an inference step is
``model.val_step`` (preprocessor, forward incl. the flip test if on, heatmap decoding).
Batches are synthetic and stay in memory unless ``with_data``, which draws them from the
config's train (or test) data loader and also reports the time spent waiting for data.
"""
import copy
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.optim import build_optim_wrapper

from clamp_hand.apis.runner import load_config
from clamp_hand.engine.autocast_optim_wrapper import AMP_DTYPES, amp_optim_wrapper_cfg
from clamp_hand.engine.dataloader_defaults import fit_dataloader_to_machine
from clamp_hand.registry import MODELS, register_all_modules
from .measure import PeakMemory, count_flops, machine_info, step_stats, time_steps, torch_threads
from .synthetic import synthetic_batch

COMPILED_PARTS = ('backbone', 'head', 'score_head', 'context_decoder', 'text_encoder',
                  'prompt_encoder')


@dataclass
class Variant:
    """What is measured: ``config`` with ``cfg_options`` (``--cfg-options`` style), ``amp``
    (None, ``'bf16'`` or ``'fp16'``) and ``compile`` (``torch.compile`` of each network part,
    with ``compile_options`` as keyword arguments, e.g. ``{'backend': 'eager'}`` to run the
    compile path without code generation)."""
    config: str
    cfg_options: Dict[str, object] = field(default_factory=dict)
    amp: Optional[str] = None
    compile: bool = False
    label: str = ''
    compile_options: Dict[str, object] = field(default_factory=dict)


@dataclass
class Settings:
    """How it is measured (shared by all variants of one run)."""
    mode: str = 'train'  # 'train' or 'infer'
    batch_size: int = 4
    flip_test: bool = False  # inference only
    device: str = 'auto'  # 'auto', 'cpu', 'cuda', 'cuda:1', ...
    warmup: int = 2
    steps: int = 10  # timed steps per variant per round
    rounds: int = 1
    with_data: bool = False
    threads: Optional[int] = None  # torch intra-op threads (None: torch's default)
    flops: bool = True
    seed: int = 0


def compile_model(model: torch.nn.Module, **compile_kwargs) -> List[str]:
    """``torch.compile(**compile_kwargs)`` each network part of an estimator in place
    (parameter names kept); returns the parts compiled. The estimator's Python glue (data
    samples, decoding, the prompt cache) stays eager."""
    done = []
    for name in COMPILED_PARTS:
        part = getattr(model, name, None)
        if isinstance(part, torch.nn.Module) and any(True for _ in part.parameters()):
            part.compile(**compile_kwargs)
            done.append(name)
    return done


def resolve_device(device: str) -> torch.device:
    if device == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    dev = torch.device(device)
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(f'--device {device}: CUDA is not available on this machine; use cpu')
    return dev


class PreparedVariant:
    """A built model with its optimizer wrapper and batch source, ready to step."""

    def __init__(self, variant: Variant, settings: Settings, device: torch.device):
        if settings.mode not in ('train', 'infer'):
            raise ValueError(f'--mode {settings.mode!r}: use train or infer')
        if variant.amp is not None and variant.amp not in AMP_DTYPES:
            raise ValueError(f'--amp {variant.amp!r}: use bf16 or fp16')
        self.variant, self.settings, self.device = variant, settings, device
        cfg = load_config(variant.config)
        cfg.model.pretrained = None  # random weights: speed does not depend on them
        cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {}, flip_test=settings.flip_test)
        if variant.cfg_options:  # after the flip setting, so that an option can override it
            cfg.merge_from_dict(copy.deepcopy(variant.cfg_options))
        self.cfg = cfg
        torch.manual_seed(settings.seed)
        self.model = MODELS.build(cfg.model).to(device)
        self.params_m = sum(p.numel() for p in self.model.parameters()) / 1e6
        self.trainable_m = sum(p.numel() for p in self.model.parameters()
                               if p.requires_grad) / 1e6
        self.compiled = (compile_model(self.model, **variant.compile_options)
                         if variant.compile else [])
        self.optim_wrapper = None
        if settings.mode == 'train':
            self.model.train()
            optim_cfg = copy.deepcopy(cfg.optim_wrapper.to_dict() if hasattr(
                cfg.optim_wrapper, 'to_dict') else dict(cfg.optim_wrapper))
            if variant.amp:
                optim_cfg = amp_optim_wrapper_cfg(optim_cfg, variant.amp, device.type)
            self.optim_wrapper = build_optim_wrapper(self.model, optim_cfg)
        else:
            self.model.eval()
        self._batches = self._batch_source()
        self.data_wait: List[float] = []
        self.times: List[float] = []
        self.cpu_times: List[float] = []
        self.round_means: List[float] = []
        self.round_cpu_means: List[float] = []
        self.memory: Dict[str, object] = {}

    def _batch_source(self):
        if not self.settings.with_data:
            batch = synthetic_batch(self.model, self.settings.batch_size, self.settings.seed)
            while True:
                yield batch
        from mmengine.runner import Runner
        key = 'train_dataloader' if self.settings.mode == 'train' else 'test_dataloader'
        loader_cfg = fit_dataloader_to_machine(self.cfg[key])
        loader_cfg['batch_size'] = self.settings.batch_size
        self.loader_cfg = {k: loader_cfg[k] for k in ('num_workers', 'pin_memory',
                                                      'persistent_workers')}
        loader = Runner.build_dataloader(loader_cfg, seed=self.settings.seed)
        while True:
            for batch in loader:
                yield batch

    def _autocast(self):
        if self.variant.amp and self.settings.mode == 'infer':
            return torch.autocast(self.device.type, dtype=AMP_DTYPES[self.variant.amp])
        return torch.autocast(self.device.type, enabled=False)

    def step(self) -> None:
        start = time.perf_counter()
        batch = next(self._batches)
        self.data_wait.append(time.perf_counter() - start)
        if self.settings.mode == 'train':
            self.model.train_step(batch, self.optim_wrapper)
        else:
            with torch.no_grad(), self._autocast():
                self.model.val_step(batch)

    def flops_per_image(self) -> int:
        return count_flops(self.step) // self.settings.batch_size

    def result(self) -> dict:
        s = self.settings
        out = dict(asdict(self.variant),
                   compiled_parts=self.compiled, model=type(self.model).__name__,
                   params_m=round(self.params_m, 3), trainable_params_m=round(self.trainable_m, 3))
        out.update(step_stats(self.times, s.batch_size, self.cpu_times))
        out['round_mean_s_per_image'] = [t / s.batch_size for t in self.round_means]
        out.update(self.memory)
        if s.with_data:
            waits = self.data_wait[-len(self.times):]
            out['median_data_wait_s'] = float(np.median(waits))
            out['data_wait_fraction'] = float(sum(waits) / sum(self.times))
            out['dataloader'] = self.loader_cfg
        return out


def _paired_ratio(times: List[float], base: List[float]) -> float:
    """Median over rounds of the ratio of two variants' mean step times in that round."""
    return float(np.median(np.asarray(times) / np.asarray(base)))


def run_benchmark(variants: List[Variant], settings: Settings) -> dict:
    """Measure each variant; returns a JSON-ready dict (see the module docstring)."""
    register_all_modules()
    device = resolve_device(settings.device)
    with torch_threads(settings.threads):
        prepared = [PreparedVariant(v, settings, device) for v in variants]
        for p in prepared:
            for _ in range(settings.warmup):
                p.step()
            # FLOPs are counted eagerly (a compiled variant does the same arithmetic)
            p.flops = p.flops_per_image() if settings.flops and not p.compiled else None
        for r in range(settings.rounds):
            order = prepared if r % 2 == 0 else prepared[::-1]
            for p in order:
                mem = PeakMemory(device)
                mem.start()
                times, cpu_times = time_steps(p.step, settings.steps, device)
                usage = mem.stop()
                p.times += times
                p.cpu_times += cpu_times
                p.round_means.append(float(np.mean(times)))
                p.round_cpu_means.append(float(np.mean(cpu_times)))
                if not p.memory or usage['peak_memory_mb'] > p.memory['peak_memory_mb']:
                    p.memory = usage
        info = machine_info(device)
    results = []
    for p in prepared:
        res = p.result()
        res['gflops_per_image'] = round(p.flops / 1e9, 3) if p.flops is not None else None
        results.append(res)
    report = dict(machine=info, settings=asdict(settings), results=results)
    if len(prepared) > 1:
        base = prepared[0]
        report['ratios_to_first'] = [
            dict(label=p.variant.label,
                 s_per_image_ratio=_paired_ratio(p.round_means, base.round_means),
                 per_round=[float(a / b) for a, b in zip(p.round_means, base.round_means)],
                 ratio_of_medians=float(np.median(p.times) / np.median(base.times)),
                 cpu_s_per_image_ratio=_paired_ratio(p.round_cpu_means, base.round_cpu_means))
            for p in prepared[1:]]
        if device.type == 'cpu':
            report['memory_note'] = ('several variants share one process: on CPU their peak '
                                     'RSS figures overlap; measure memory one variant per run')
    return report


__all__ = ['COMPILED_PARTS', 'PreparedVariant', 'Settings', 'Variant', 'compile_model',
           'resolve_device', 'run_benchmark']
