"""Export a checkpoint to ONNX and check it against PyTorch:

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out FILE.onnx
        [--exporter auto|dynamo|torchscript] [--opset 18] [--cfg-options k=v ...]

The graph maps crops ``(B,3,H,W)`` float32 BGR 0-255 (the TopdownAffine output) to heatmaps
``(B,K,h,w)``; the batch axis is dynamic; the prompt embeddings are folded in as a constant
(no text encoder at run time). CONFIG may be ``-`` to use the config stored in the checkpoint.
Run it with ``clamp_hand.deployment.OnnxHandPoseRunner``."""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clamp_hand.apis.runner import DictAction  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help="config file, or '-' for the checkpoint's own")
    p.add_argument('checkpoint', help='checkpoint (.pth) written by tools/train.py')
    p.add_argument('--out', required=True, help='ONNX file to write')
    p.add_argument('--exporter', choices=['auto', 'dynamo', 'torchscript'], default='auto',
                   help='auto: dynamo, falling back to the TorchScript exporter')
    p.add_argument('--opset', type=int, default=18)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='CHECKPOINT is a file you trust: unpickle it in full if it holds '
                   'more than data (this can run code in it)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import numpy as np
    import torch

    from clamp_hand.apis.inference import init_model
    from clamp_hand.deployment import ExportableHeatmapModel, OnnxHandPoseRunner, export_onnx
    model = init_model(None if args.config == '-' else args.config, args.checkpoint,
                       cfg_options=args.cfg_options, trust=args.trust_checkpoint)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    dynamo = {'auto': None, 'dynamo': True, 'torchscript': False}[args.exporter]
    used = export_onnx(model, args.out, opset=args.opset, dynamo=dynamo)
    # check: onnxruntime vs PyTorch on random crops, at a batch size other than the export's
    w, h = model.cfg.model.codec['input_size']
    crops = np.random.default_rng(0).uniform(0, 255, (3, 3, h, w)).astype(np.float32)
    with torch.no_grad():
        ref = ExportableHeatmapModel(model)(torch.from_numpy(crops)).numpy()
    out = OnnxHandPoseRunner(args.out).run(crops)
    diff = float(np.abs(out - ref).max())
    print(f'{args.out}: exporter {used}, {model.num_keypoints} keypoints, input {h}x{w}, '
          f'max |onnxruntime - torch| = {diff:.2e} (heatmap max {np.abs(ref).max():.3g})')
    if diff > 1e-3:
        raise SystemExit(f'ONNX output differs from PyTorch by {diff:.2e} (> 1e-3)')


if __name__ == '__main__':
    main()
