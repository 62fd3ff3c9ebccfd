from .checkpoint_hook import AtomicCheckpointHook
from .layout_check_hook import KeypointLayoutCheckHook
from .nonfinite_hook import NonFiniteLossHook
from .optim_constructor import CLAMPOptimWrapperConstructor
from .original_checkpoint_hook import OriginalCheckpointHook

__all__ = ['CLAMPOptimWrapperConstructor', 'AtomicCheckpointHook', 'KeypointLayoutCheckHook',
           'NonFiniteLossHook', 'OriginalCheckpointHook']
