"""Export a pose model to ONNX: image crops in, heatmaps out, no text encoder at run time.

The graph input ``crops`` is ``(B,3,H,W)`` float32, **BGR, 0-255**: exactly the pipeline's
``TopdownAffine`` output, so the data preprocessor's channel flip and mean/std normalisation
are part of the graph. The output ``heatmaps`` is ``(B,K,h,w)`` (no flip test; the runner does
it). For CLAMP models the prompt embeddings ``t (K,C)`` are computed once with the text encoder
at export and stored in the graph as a constant. The batch axis is dynamic.

What inference needs beyond the graph (keypoint names, skeleton and colours, flip indices,
codec, test pipeline, prompts) is stored as json in the model's metadata (key
``clamp_hand``), so :class:`OnnxHandPoseRunner` needs only the ``.onnx`` file.
"""
import json
import warnings
from typing import Optional

import numpy as np
import torch
from torch import nn

META_KEY = 'clamp_hand'


class ExportableHeatmapModel(nn.Module):
    """``crops (B,3,H,W)`` BGR 0-255 -> ``heatmaps (B,K,h,w)``; the prompt embeddings are a
    buffer (a constant of the exported graph)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        pre = model.data_preprocessor
        self.bgr_to_rgb = bool(getattr(pre, '_channel_conversion', False))
        normalize = bool(getattr(pre, '_enable_normalize', False))
        self.register_buffer('mean', pre.mean.detach().clone().view(1, 3, 1, 1) if normalize
                             else torch.zeros(1, 3, 1, 1))
        self.register_buffer('std', pre.std.detach().clone().view(1, 3, 1, 1) if normalize
                             else torch.ones(1, 3, 1, 1))
        prompts = None
        if hasattr(model, 'prompt_embeddings'):
            with torch.no_grad():
                prompts = model.prompt_embeddings().detach().clone()  # (K,C)
        self.register_buffer('prompts', prompts)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        x = crops.flip(1) if self.bgr_to_rgb else crops
        x = (x - self.mean) / self.std
        if self.prompts is None:
            return self.model.forward_heatmaps(x)
        return self.model.forward_features(x, self.prompts)['heatmaps']


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    return v


def export_metadata(model) -> dict:
    """What :class:`OnnxHandPoseRunner` needs to preprocess, decode and draw (json-able)."""
    from clamp_hand.apis.inference import _find_pipeline, keypoint_names
    meta = model.dataset_meta
    codec_cfg = model.cfg.model.codec
    return _jsonable(dict(
        keypoint_names=keypoint_names(model),
        flip_indices=meta.get('flip_indices'),
        skeleton_links=meta.get('skeleton_links', []),
        skeleton_link_colors=meta.get('skeleton_link_colors', []),
        keypoint_colors=meta.get('keypoint_colors', []),
        codec=dict(codec_cfg),
        input_size=list(codec_cfg['input_size']),
        test_cfg=dict(model.test_cfg),
        pipeline=[dict(t) for t in _find_pipeline(model.cfg)],
        prompts=list(model.text_encoder.prompts) if hasattr(model, 'text_encoder') else None,
        input_format='crops (B,3,H,W) float32 BGR 0-255 (TopdownAffine output)',
    ))


def export_onnx(model, out_file: str, batch_size: int = 2, opset: int = 18,
                dynamo: Optional[bool] = None) -> str:
    """Export ``model`` (from ``init_model``) to ``out_file``; returns the exporter used.

    ``dynamo=None`` tries torch's dynamo exporter and falls back to the TorchScript-based one
    (``dynamo=False``) if it fails. ``batch_size`` only sets the example input: the batch axis
    of the graph is dynamic (batch 1 would let torch.export specialise the axis to 1)."""
    import onnx
    model = model.cpu().eval()
    wrapper = ExportableHeatmapModel(model).eval()
    w, h = model.cfg.model.codec['input_size']
    example = torch.rand(batch_size, 3, h, w) * 255
    tried = [True, False] if dynamo is None else [dynamo]
    errors = []
    for use_dynamo in tried:
        try:
            _export(wrapper, example, out_file, opset, use_dynamo)
            break
        except Exception as e:  # noqa: BLE001 - report and try the other exporter
            errors.append(f'dynamo={use_dynamo}: {type(e).__name__}: {e}')
            if use_dynamo and len(tried) > 1:
                warnings.warn(f'dynamo ONNX export failed ({type(e).__name__}: {e}); '
                              'falling back to dynamo=False')
    else:
        raise RuntimeError('ONNX export failed:\n' + '\n'.join(errors))
    proto = onnx.load(out_file)
    entry = proto.metadata_props.add()
    entry.key, entry.value = META_KEY, json.dumps(export_metadata(model))
    onnx.checker.check_model(proto)
    onnx.save(proto, out_file)
    return 'dynamo' if use_dynamo else 'torchscript'


def _export(wrapper: nn.Module, example: torch.Tensor, out_file: str, opset: int,
            dynamo: bool) -> None:
    with torch.no_grad():
        if dynamo:
            batch = torch.export.Dim('batch', min=1, max=1024)
            torch.onnx.export(wrapper, (example, ), out_file, input_names=['crops'],
                              output_names=['heatmaps'], opset_version=opset, dynamo=True,
                              dynamic_shapes={'crops': {0: batch}}, external_data=False,
                              verbose=False)
        else:
            torch.onnx.export(wrapper, (example, ), out_file, input_names=['crops'],
                              output_names=['heatmaps'], opset_version=opset, dynamo=False,
                              dynamic_axes={'crops': {0: 'batch'}, 'heatmaps': {0: 'batch'}})
