"""Throughput, memory and FLOPs of a config's model in training and inference
(``tools/analysis/benchmark.py`` is the command-line front end)."""
from .bench import Settings, Variant, compile_model, run_benchmark
from .synthetic import synthetic_batch

__all__ = ['Settings', 'Variant', 'compile_model', 'run_benchmark', 'synthetic_batch']
