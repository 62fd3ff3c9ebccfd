"""Training curves from mmengine's scalar log (``WORK_DIR/<timestamp>/vis_data/scalars.json``:
one json object per line; training lines carry the loss terms, ``lr``, ``iter``, ``epoch``;
validation lines carry the metrics, e.g. ``coco/AP``, ``PCK``, ``AUC``, ``EPE``, ``step``)."""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

METRIC_KEYS = ('coco/AP', 'coco/AP .5', 'coco/AR', 'PCK', 'AUC')


def find_scalar_logs(work_dir: str) -> List[str]:
    """All ``scalars.json`` of a work dir, oldest run first (a resumed run adds a new one)."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not logs:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir!r}: give the work '
                                'dir of a tools/train.py run (LocalVisBackend writes it)')
    return logs


def read_scalars(work_dir: str) -> Tuple[List[dict], List[dict]]:
    """``(train rows, val rows)``; later runs (resumes) override earlier rows of the same
    iteration / epoch."""
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    for log in find_scalar_logs(work_dir):
        with open(log) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    raise ValueError(f'{log}:{n} is not a json line') from None
                if any(k.startswith('loss') for k in row) and 'iter' in row:
                    train[int(row['iter'])] = row
                elif any(k in row for k in METRIC_KEYS):
                    val[int(row.get('step', len(val) + 1))] = row
    return [train[k] for k in sorted(train)], [val[k] for k in sorted(val)]


def plot_curves(work_dir: str, out_file: Optional[str] = None) -> str:
    """Draw the loss terms per iteration and the validation metrics per epoch to one PNG
    (default ``WORK_DIR/training_curves.png``); returns its path."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    train, val = read_scalars(work_dir)
    if not train:
        raise ValueError(f'{work_dir!r}: the scalar log has no training loss lines yet')
    out_file = out_file or osp.join(work_dir, 'training_curves.png')
    fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(11, 4))
    iters = [r['iter'] for r in train]
    terms = sorted({k for r in train for k in r if k.startswith('loss')})
    for term in terms:
        pts = [(r['iter'], r[term]) for r in train if term in r and r[term] > 0]
        if pts:
            ax_loss.plot(*zip(*pts), label=term, lw=1.2)
    ax_loss.set_yscale('log')
    ax_loss.set_xlabel('iteration')
    ax_loss.set_ylabel('loss (log scale)')
    ax_loss.set_title(f'training losses ({len(iters)} logged iterations)')
    ax_loss.legend(fontsize=8)
    ax_loss.grid(alpha=0.3)

    keys = [k for k in METRIC_KEYS if any(k in r for r in val)]
    for key in keys:
        pts = [(r.get('step', i + 1), r[key]) for i, r in enumerate(val) if key in r]
        ax_val.plot(*zip(*pts), marker='o', label=key)
    ax_val.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_val.set_xlabel('epoch')
    ax_val.set_ylabel('metric')
    ax_val.set_ylim(0, 1.0)
    ax_val.set_title('validation' if keys else 'validation (none logged yet)')
    if keys:
        ax_val.legend(fontsize=8)
    ax_val.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file
