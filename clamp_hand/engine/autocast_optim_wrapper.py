"""Mixed precision on any device through mmengine's optimizer wrapper.

mmengine's ``AmpOptimWrapper`` refuses to run without CUDA (or NPU/MLU/MUSA). On a CPU,
bfloat16 autocast needs no loss scaling, so a plain ``OptimWrapper`` whose ``optim_context``
enters ``torch.autocast`` is all it takes. :func:`amp_optim_wrapper_cfg` picks the right
wrapper for a device: ``AmpOptimWrapper`` (with its dynamic loss scaler for fp16) on CUDA,
``AutocastOptimWrapper`` (bf16 only) elsewhere.
"""
from contextlib import contextmanager
from typing import Optional

import torch
from mmengine.optim import OptimWrapper

from clamp_hand.registry import OPTIM_WRAPPERS

AMP_DTYPES = {'bf16': torch.bfloat16, 'bfloat16': torch.bfloat16,
              'fp16': torch.float16, 'float16': torch.float16}


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` running the forward under ``torch.autocast(device_type, dtype)``.

    Args:
        dtype: ``'bfloat16'`` (fp16 needs loss scaling: use mmengine's ``AmpOptimWrapper``).
        device_type: ``'cpu'`` or ``'cuda'``; default: where the model's parameters are.
    """

    def __init__(self, *args, dtype: str = 'bfloat16', device_type: Optional[str] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if AMP_DTYPES.get(dtype) is not torch.bfloat16:
            raise ValueError(f'AutocastOptimWrapper dtype={dtype!r}: only bfloat16 works without '
                             'a loss scaler; use AmpOptimWrapper (CUDA) for float16')
        self.cast_dtype = torch.bfloat16
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device_type = self.device_type or next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(device_type, dtype=self.cast_dtype):
            yield


def amp_optim_wrapper_cfg(optim_wrapper: dict, amp: str, device_type: str) -> dict:
    """Turn a config's ``optim_wrapper`` into its mixed-precision form: ``amp`` is ``'bf16'``
    or ``'fp16'``; fp16 is refused off CUDA with the reason."""
    if amp not in AMP_DTYPES:
        raise ValueError(f'--amp {amp!r}: use bf16 or fp16')
    dtype = 'bfloat16' if AMP_DTYPES[amp] is torch.bfloat16 else 'float16'
    cfg = dict(optim_wrapper)
    if device_type == 'cuda':
        cfg.update(type='AmpOptimWrapper', dtype=dtype)
    elif dtype == 'bfloat16':
        cfg.update(type='AutocastOptimWrapper', dtype=dtype, device_type=device_type)
    else:
        raise ValueError(f'--amp fp16 on {device_type}: float16 training needs CUDA (loss '
                         'scaling); use --amp bf16')
    return cfg


__all__ = ['AMP_DTYPES', 'AutocastOptimWrapper', 'amp_optim_wrapper_cfg']
