"""Parameter groups for CLAMP: frozen weights left out, backbone at a reduced lr, no weight
decay on norms, biases, embeddings and scalar/vector parameters.

mmengine's ``DefaultOptimWrapperConstructor`` applies only one ``custom_keys`` entry per
parameter and then skips its bias/norm rules, so "backbone lr x0.1 *and* no decay on the
backbone's norms" cannot be written with it; it also puts frozen parameters into the optimizer.
"""
from typing import Dict, List

from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS, OPTIMIZERS
from torch import nn

from clamp_hand.registry import OPTIM_WRAPPER_CONSTRUCTORS

NO_DECAY_KEYWORDS = ('embedding', 'contexts', 'gamma', 'logit_scale')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class CLAMPOptimWrapperConstructor:
    """Build an optim wrapper with these groups.

    ``paramwise_cfg``:
        lr_mult: ``{name prefix: multiplier}``, the longest matching prefix wins
            (default ``{'backbone': 0.1}``); a multiplier of 0 freezes the parameters.
        no_decay_keywords: names containing any of these get no weight decay (in addition to
            every parameter with ``ndim <= 1``: norms, biases, gamma, logit scale).
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: dict = None):
        self.optim_wrapper_cfg = dict(optim_wrapper_cfg)
        paramwise_cfg = dict(paramwise_cfg or {})
        self.lr_mult: Dict[str, float] = paramwise_cfg.pop('lr_mult', {'backbone': 0.1})
        self.no_decay = tuple(paramwise_cfg.pop('no_decay_keywords', NO_DECAY_KEYWORDS))
        if paramwise_cfg:
            raise KeyError(f'optim_wrapper.paramwise_cfg has unknown keys {sorted(paramwise_cfg)}; '
                           'CLAMPOptimWrapperConstructor takes lr_mult and no_decay_keywords')

    def param_groups(self, model: nn.Module, lr: float, weight_decay: float) -> List[dict]:
        groups: Dict[tuple, dict] = {}
        prefixes = sorted(self.lr_mult, key=len, reverse=True)
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue  # frozen: no gradient, no optimizer state
            mult = next((self.lr_mult[k] for k in prefixes if name.startswith(k)), 1.0)
            if mult == 0:
                p.requires_grad_(False)
                continue
            decay = 0.0 if p.ndim <= 1 or any(k in name for k in self.no_decay) else weight_decay
            g = groups.setdefault((mult, decay),
                                  dict(params=[], lr=lr * mult, weight_decay=decay, names=[]))
            g['params'].append(p)
            g['names'].append(name)
        return list(groups.values())

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if hasattr(model, 'module'):
            model = model.module
        cfg = dict(self.optim_wrapper_cfg)
        optim_cfg = dict(cfg.pop('optimizer'))
        groups = self.param_groups(model, optim_cfg['lr'], optim_cfg.get('weight_decay', 0.0))
        for g in groups:
            g.pop('names')
        optim_cfg['params'] = groups
        optimizer = OPTIMIZERS.build(optim_cfg)
        cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(cfg, default_args=dict(optimizer=optimizer))


__all__ = ['CLAMPOptimWrapperConstructor']
