"""Distributed training is real: `tools/dist_train.sh CONFIG 2` runs on this CPU machine (gloo),
and 2 processes x 4 images end with the same weights as 1 process x 8 images."""
import os.path as osp

import torch

from conftest import ROOT, require_hand_samples, run_tool

CFG = osp.join(ROOT, 'configs/hand_samples/clamp_vit-tiny_2xb4-4iter_dist-check-64x64.py')


def test_two_processes_equal_one_process_with_twice_the_batch(tmp_path):
    require_hand_samples()
    single, dual = tmp_path / 'single', tmp_path / 'dual'
    run_tool(['tools/train.py', CFG, '--work-dir', str(single),
              '--cfg-options', 'train_dataloader.batch_size=8'])
    out = run_tool(['bash', 'tools/dist_train.sh', CFG, '2', '--work-dir', str(dual)],
                   env=dict(PORT='29611'))
    assert 'Saving checkpoint at 4 iterations' in out.stdout
    a = torch.load(single / 'iter_4.pth', map_location='cpu', weights_only=False)
    b = torch.load(dual / 'iter_4.pth', map_location='cpu', weights_only=False)
    assert a['meta']['iter'] == b['meta']['iter'] == 4
    sa, sb = a['state_dict'], b['state_dict']
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k], rtol=1e-4, atol=1e-5, msg=k)
    # the run did train: trainable weights moved away from a fresh initialisation
    from clamp_hand.apis import load_config
    from clamp_hand.registry import MODELS
    cfg = load_config(CFG)
    torch.manual_seed(0)
    init = MODELS.build(cfg.model).state_dict()
    for k in ('head.final_layer.weight', 'text_encoder.contexts', 'context_decoder.gamma'):
        assert not torch.allclose(init[k], sa[k]), f'{k} did not train'
