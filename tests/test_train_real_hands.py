"""Learning works on real images: a tiny CLAMP trained on CPU on the 12 real hands of
../shared/data/hand_samples (OneHand10K + FreiHAND) through tools/train.py, then evaluated on
the same images through tools/test.py, reaches PCK@0.2 >= 0.9 and AP >= 0.8 (hand sigmas)."""
import glob
import json
import os.path as osp

import pytest

from conftest import TINY_HAND_SAMPLES_CFG, load_tool


def parse_table(stdout):
    lines = [ln for ln in stdout.strip().splitlines() if ln.strip()]
    head = [h.strip() for h in lines[-2].split('|')]
    vals = [float(v) for v in lines[-1].split('|')]
    return dict(zip(head, vals))


@pytest.fixture(scope='module')
def trained(trained_hand_samples):
    """8 epochs x 20 iterations (the run shared with tests/test_inference.py)."""
    return trained_hand_samples


def test_training_reaches_high_pck_and_ap_on_the_same_images(trained, tmp_path, capsys):
    work, ckpt = trained
    assert osp.isfile(ckpt)
    preds = tmp_path / 'preds.json'
    load_tool('tools/test.py').main([TINY_HAND_SAMPLES_CFG, ckpt, '--work-dir', str(tmp_path),
                                     '--out', str(preds)])  # its main, in this process
    m = parse_table(capsys.readouterr().out)
    assert m['PCK@0.2'] >= 0.9, m
    assert m['AP'] >= 0.8, m
    assert m['EPE'] < 3.0, m
    results = json.loads(preds.read_text())
    assert len(results) == 12 and all(len(r['keypoints']) == 21 * 3 for r in results)


def test_training_log_shows_every_loss_term_decreasing(trained):
    work, _ = trained
    scalars = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    assert scalars, 'mmengine scalars log missing'
    rows = [json.loads(ln) for ln in open(scalars[0]) if '"loss_heatmap"' in ln]
    assert len(rows) >= 3
    for term in ('loss_heatmap', 'loss_spatial', 'loss_feature'):
        assert rows[-1][term] < rows[0][term], (term, rows[0][term], rows[-1][term])
