"""Deployment: ONNX export with the prompt embeddings folded in, and an onnxruntime runner."""
from .onnx_export import ExportableHeatmapModel, export_onnx
from .onnx_runner import OnnxHandPoseRunner

__all__ = ['ExportableHeatmapModel', 'OnnxHandPoseRunner', 'export_onnx']
