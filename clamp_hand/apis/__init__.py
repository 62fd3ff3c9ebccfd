from .inference import inference, init_model
from .runner import build_runner, check_keypoint_layout, format_metrics, load_config, test, train

__all__ = ['build_runner', 'check_keypoint_layout', 'format_metrics', 'inference', 'init_model',
           'load_config', 'test', 'train']
