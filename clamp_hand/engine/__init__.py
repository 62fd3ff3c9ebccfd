from .autocast_optim_wrapper import AutocastOptimWrapper, amp_optim_wrapper_cfg
from .checkpoint_hook import AtomicCheckpointHook
from .checkpoint_runner import CheckpointAsDataRunner
from .dataloader_defaults import fit_dataloaders_to_machine
from .disk_space import DiskSpaceError
from .layout_check_hook import KeypointLayoutCheckHook
from .nonfinite_hook import NonFiniteLossHook
from .optim_constructor import CLAMPOptimWrapperConstructor
from .original_checkpoint_hook import OriginalCheckpointHook
from .resume_schedule_hook import ResumeScheduleHook
from .tracking import (MLflowFileVisBackend, WandbStepVisBackend, add_vis_backends,
                       give_experiment_own_name, give_visualizer_own_name)

__all__ = ['AutocastOptimWrapper', 'amp_optim_wrapper_cfg', 'fit_dataloaders_to_machine',
           'CLAMPOptimWrapperConstructor', 'AtomicCheckpointHook', 'CheckpointAsDataRunner',
           'KeypointLayoutCheckHook', 'NonFiniteLossHook', 'OriginalCheckpointHook',
           'MLflowFileVisBackend', 'WandbStepVisBackend', 'ResumeScheduleHook',
           'add_vis_backends', 'give_experiment_own_name', 'give_visualizer_own_name',
           'DiskSpaceError']
