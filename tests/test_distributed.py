"""Distributed training is real: `tools/dist_train.sh CONFIG 2` runs on this CPU machine (gloo),
and 2 processes x 4 images end with the same weights as 1 process x 8 images. (The two runs
live in _helpers_dist_runs.py; tests/test_slurm.py compares its Slurm job with the same.)"""
from _helpers_dist_runs import (DIST_CHECK_CFG, assert_same_weights, dist_train_run,  # noqa: F401
                                single_train_run)

CFG = DIST_CHECK_CFG


def test_two_processes_equal_one_process_with_twice_the_batch(single_train_run,  # noqa: F811
                                                              dist_train_run):  # noqa: F811
    (single, _), (dual, out) = single_train_run, dist_train_run
    assert 'Saving checkpoint at 4 iterations' in out
    sa = assert_same_weights(single / 'iter_4.pth', dual / 'iter_4.pth')
    # the run did train: trainable weights moved away from a fresh initialisation
    import torch

    from clamp_hand.apis import load_config
    from clamp_hand.registry import MODELS
    cfg = load_config(CFG)
    torch.manual_seed(0)
    init = MODELS.build(cfg.model).state_dict()
    for k in ('head.final_layer.weight', 'text_encoder.contexts', 'context_decoder.gamma'):
        assert not torch.allclose(init[k], sa[k]), f'{k} did not train'
