"""Print the resolved config: ``python tools/misc/print_config.py CONFIG [--cfg-options k=v ...]
[--save FILE]``: ``_base_`` files merged, ``{{_base_.x}}`` references and ``--cfg-options``
applied, the keypoint prompts and the dataset metainfo written out. The same checks as
tools/train.py run first (prompt count against the keypoints, registered ``type`` names), so
an error here is the error training would stop with.

mmengine prints dict keys in text order (``keypoint_info`` 0, 1, 10, 11, ...), so a table of
each data loader's keypoints in index order follows, with the flip partner and the prompt that
names each keypoint: the place to see that prompts and keypoints line up."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from clamp_hand.apis.config_check import check_registered_types  # noqa: E402
from clamp_hand.apis.runner import DictAction, load_config  # noqa: E402
from clamp_hand.registry import register_all_modules  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('config', help='config file')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries, e.g. train_dataloader.batch_size=8')
    p.add_argument('--save', help='also write the resolved config to this .py file')
    return p.parse_args(argv)


def _metainfo(dataset_cfg):
    """The metainfo dict of a (possibly wrapped) dataset config, or None."""
    while dataset_cfg is not None and not dataset_cfg.get('metainfo'):
        inner = dataset_cfg.get('datasets') or [dataset_cfg.get('dataset')]
        dataset_cfg = inner[0]
    return None if dataset_cfg is None else dataset_cfg.get('metainfo')


def keypoint_table(cfg) -> str:
    """``index: name [<-> flip partner] <- 'prompt'`` lines for each data loader's keypoints
    (loaders with the same metainfo share one table)."""
    prompts = ((cfg.get('model') or {}).get('text_encoder') or {}).get('prompts') or []
    out, seen = [], {}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        meta = _metainfo((cfg.get(loader) or {}).get('dataset'))
        if not meta or not meta.get('keypoint_info'):
            continue
        info = meta['keypoint_info']
        key = repr(sorted((int(k), v['name']) for k, v in info.items()))
        if key in seen:
            out.append(f'# {loader}: the keypoints of {seen[key]}')
            continue
        seen[key] = loader
        out.append(f'# {loader} keypoints ({meta.get("dataset_name", "?")}, index order): '
                   'index: name [<-> flip partner] <- prompt')
        for i in sorted(info, key=int):
            kp = info[i]
            swap = f' <-> {kp["swap"]}' if kp.get('swap') else ''
            prompt = f' <- {prompts[int(i)]!r}' if int(i) < len(prompts) else ''
            out.append(f'#   {int(i):3d}: {kp["name"]}{swap}{prompt}')
    return '\n'.join(out)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    register_all_modules()
    check_registered_types(cfg, args.config)
    text = cfg.pretty_text
    table = keypoint_table(cfg)
    print(f'# Config: {args.config}\n{text}\n{table}')
    if args.save:  # what cfg.dump writes for a .py file, without formatting it again
        os.makedirs(os.path.dirname(os.path.abspath(args.save)), exist_ok=True)
        with open(args.save, 'w') as f:
            f.write(text)
        print(f'# written to {args.save}')
    return text, table


if __name__ == '__main__':
    main()
