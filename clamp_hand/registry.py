"""CLAMP-Hand's registry scope ``clamp_hand``.

Each registry is a child of mmpose's (data side: datasets, transforms, codecs, metrics, hooks)
or of mmengine's root (model side). mmpose's own MODELS registry lazily imports
``mmpose.models``, which needs compiled mmcv ops that do not build on current torch, so the
model side hangs off mmengine's root directly and ``mmpose.models`` is never imported.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry
from mmpose.registry import DATA_SAMPLERS as MMPOSE_DATA_SAMPLERS
from mmpose.registry import DATASETS as MMPOSE_DATASETS
from mmpose.registry import HOOKS as MMPOSE_HOOKS
from mmpose.registry import KEYPOINT_CODECS as MMPOSE_KEYPOINT_CODECS
from mmpose.registry import METRICS as MMPOSE_METRICS
from mmpose.registry import TRANSFORMS as MMPOSE_TRANSFORMS

SCOPE = 'clamp_hand'

MODELS = Registry('model', parent=MMENGINE_MODELS, scope=SCOPE,
                  locations=['clamp_hand.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope=SCOPE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope=SCOPE,
    locations=['clamp_hand.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope=SCOPE,
                          locations=['clamp_hand.engine'])
# children only so that building under the clamp_hand scope finds mmengine's entries quietly
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, scope=SCOPE)
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, scope=SCOPE)
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS, scope=SCOPE)

DATASETS = Registry('dataset', parent=MMPOSE_DATASETS, scope=SCOPE,
                    locations=['clamp_hand.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMPOSE_DATA_SAMPLERS, scope=SCOPE)
TRANSFORMS = Registry('transform', parent=MMPOSE_TRANSFORMS, scope=SCOPE,
                      locations=['clamp_hand.datasets'])
KEYPOINT_CODECS = Registry('keypoint codec', parent=MMPOSE_KEYPOINT_CODECS, scope=SCOPE)
METRICS = Registry('metric', parent=MMPOSE_METRICS, scope=SCOPE,
                   locations=['clamp_hand.evaluation'])
HOOKS = Registry('hook', parent=MMPOSE_HOOKS, scope=SCOPE, locations=['clamp_hand.engine'])


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers something, and the mmpose data-side modules the
    configs use, then (optionally) make ``clamp_hand`` the default scope."""
    import mmpose.codecs  # noqa: F401
    import mmpose.datasets  # noqa: F401
    import mmpose.datasets.transforms  # noqa: F401
    import mmpose.engine.hooks  # noqa: F401
    import mmpose.evaluation  # noqa: F401

    import clamp_hand.datasets  # noqa: F401
    import clamp_hand.engine  # noqa: F401
    import clamp_hand.evaluation  # noqa: F401
    import clamp_hand.models  # noqa: F401
    if init_default_scope:
        from mmengine.registry import init_default_scope as _init
        _init(SCOPE)
