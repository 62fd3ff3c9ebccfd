"""Make a checkpoint fit to hand out: ``python tools/misc/publish_model.py IN.pth OUT.pth``.

Keeps what inference and evaluation need, ``state_dict`` and ``meta`` (the config, as plain
data, and the dataset metainfo: keypoint names, skeleton, flip pairs); drops what only resuming
training needs (``optimizer``, ``param_schedulers``, ``message_hub`` and any other entry).
Writes ``OUT-<sha8>.pth``, ``<sha8>`` being the first 8 hex digits of the written file's
SHA-256 (as mmpose's ``publish_model`` names files), and prints its path. IN is read as data
(``clamp_hand.checkpoint``); ``--trust-checkpoint`` opens a file holding more (a trusted legacy
file): the published copy then holds data only, so it opens without the opt-in.
"""
import argparse
import hashlib
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

from clamp_hand.checkpoint import (config_from_checkpoint, config_to_data,  # noqa: E402
                                   read_checkpoint)

KEPT = ('state_dict', 'meta')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('in_file', help='checkpoint to publish (e.g. work_dirs/RUN/best_*.pth)')
    p.add_argument('out_file', help='where to write it; the hash is put before the extension')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='IN is a file you trust: unpickle it in full if it holds more than data '
                   '(this can run code in it)')
    return p.parse_args(argv)


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def publish(in_file: str, out_file: str, trust: bool = False) -> str:
    """Write the slimmed copy of ``in_file`` and return its final path (``out_file`` with
    ``-<sha8>`` before the extension). Raises ``ValueError`` for a file without ``state_dict``
    and ``UnsafeCheckpointError`` (a ``ValueError``) for one holding more than data unless
    ``trust``."""
    ckpt = read_checkpoint(in_file, map_location='cpu', trust=trust)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get('state_dict'), dict):
        raise ValueError(f'{in_file}: not a training checkpoint (no "state_dict" dict); '
                         'publish the .pth files tools/train.py writes')
    meta = dict(ckpt.get('meta') or {})
    if meta.get('cfg') is not None:  # old checkpoints: config text -> data
        meta['cfg'] = config_to_data(config_from_checkpoint(meta['cfg'], f'{in_file}: meta.cfg',
                                                            trust))
    published = dict(state_dict=ckpt['state_dict'], meta=meta)
    stem, ext = osp.splitext(out_file)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    tmp = f'{stem}.tmp{ext or ".pth"}'
    torch.save(published, tmp)
    try:
        read_checkpoint(tmp)  # what is handed out must open without the opt-in
    except ValueError as e:
        os.remove(tmp)
        raise ValueError(f'{in_file}: its meta holds more than data, not published: {e}') from None
    final = f'{stem}-{sha256_of(tmp)[:8]}{ext or ".pth"}'
    os.replace(tmp, final)
    return final


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.in_file):
        sys.exit(f'error: checkpoint {args.in_file!r} does not exist')
    try:
        final = publish(args.in_file, args.out_file, args.trust_checkpoint)
    except ValueError as e:
        sys.exit(f'error: {e}')
    print(final)
    return final


if __name__ == '__main__':
    main()
