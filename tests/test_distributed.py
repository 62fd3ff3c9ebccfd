"""Distributed training is real: `tools/dist_train.sh CONFIG 2` runs on this CPU machine (gloo),
and 2 processes x 4 images end with the same weights as 1 process x 8 images."""
import os.path as osp

import torch

from conftest import ROOT, require_hand_samples, run_tool, start_tool

CFG = osp.join(ROOT, 'configs/hand_samples/clamp_vit-tiny_2xb4-4iter_dist-check-64x64.py')


def train_one_and_two_processes(tmp_path, port='29611', launch=None):
    """Train ``CFG`` for 4 iterations twice: 1 process x 8 images (``tools/train.py``,
    in the background) and 2 processes x 4 images (``launch``: a command list that starts
    the 2-process run and takes ``--work-dir DIR`` after it; default ``tools/dist_train.sh
    CFG 2``). Returns ``(single iter_4.pth, dual iter_4.pth, the 2-process run's output)``.
    Both runs start together: each is mostly start-up, so they share the cores."""
    single, dual = tmp_path / 'single', tmp_path / 'dual'
    background = start_tool(['tools/train.py', CFG, '--work-dir', str(single),
                             '--cfg-options', 'train_dataloader.batch_size=8'],
                            tmp_path / 'single.log', env=dict(OMP_NUM_THREADS='1'))
    launch = launch or ['bash', 'tools/dist_train.sh', CFG, '2']
    out = run_tool(list(launch) + ['--work-dir', str(dual)], env=dict(PORT=port))
    assert background.wait(timeout=600) == 0, (tmp_path / 'single.log').read_text()[-3000:]
    return single / 'iter_4.pth', dual / 'iter_4.pth', out.stdout


def test_two_processes_equal_one_process_with_twice_the_batch(tmp_path):
    require_hand_samples()
    single, dual, out = train_one_and_two_processes(tmp_path)
    assert 'Saving checkpoint at 4 iterations' in out
    a = torch.load(single, map_location='cpu', weights_only=False)
    b = torch.load(dual, map_location='cpu', weights_only=False)
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
