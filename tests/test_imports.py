"""mmpose.models / mmpose.apis / mmpose.visualization need compiled mmcv ops that do not build
on current torch: no module may import them, directly or through a registry."""
import glob
import os.path as osp
import re
import subprocess
import sys

from conftest import ROOT

FORBIDDEN = re.compile(r'^\s*(from|import)\s+mmpose\.(models|apis|visualization)\b', re.M)


def test_no_source_file_imports_forbidden_mmpose_modules():
    offenders = []
    for path in glob.glob(osp.join(ROOT, '**', '*.py'), recursive=True):
        if '/.venv/' in path or '/work_dirs/' in path:
            continue
        with open(path, encoding='utf-8') as f:
            if FORBIDDEN.search(f.read()):
                offenders.append(osp.relpath(path, ROOT))
    assert not offenders, f'these files import mmpose.models/apis/visualization: {offenders}'


def test_building_and_running_a_model_never_loads_them():
    code = (
        'import sys, torch\n'
        'from clamp_hand.apis import load_config\n'
        'from clamp_hand.registry import MODELS, register_all_modules\n'
        'register_all_modules()\n'
        f'cfg = load_config({osp.join(ROOT, "configs/hand_samples/clamp_vit-tiny_1xb12-40e_hand-samples-128x128.py")!r})\n'
        'from mmengine.runner import Runner\n'
        'm = MODELS.build(cfg.model)\n'
        'm(torch.zeros(1, 3, 128, 128), mode="tensor")\n'
        'Runner.build_dataloader(cfg.val_dataloader)\n'
        'bad = [n for n in sys.modules if n.split(".")[:2] in '
        '(["mmpose", "models"], ["mmpose", "apis"], ["mmpose", "visualization"])]\n'
        'assert not bad, bad\n'
        'print("clean")\n')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and 'clean' in out.stdout, out.stderr[-3000:]
