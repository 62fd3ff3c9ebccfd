"""Per-hand CPU latency of onnxruntime vs PyTorch eager on the same exported computation:

    python tools/deployment/bench_onnx.py CONFIG [--checkpoint CKPT] [--threads 2]
        [--runs 30] [--warmup 5] [--onnx FILE] [--cfg-options k=v ...]

Without a checkpoint the weights are random (latency does not depend on them;
``model.pretrained`` is ignored). Times one hand crop at batch 1 through the network (crop ->
heatmaps, normalisation included, prompt embeddings precomputed in both) and with the flip test
(the crop and its mirror image as one batch of 2), after ``--warmup`` runs; prints the median
and the 10th-90th percentile range over ``--runs`` runs, in milliseconds. PyTorch and
onnxruntime alternate run by run, so background load affects both alike."""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clamp_hand.apis.runner import DictAction  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--checkpoint', help='weights (default: random)')
    p.add_argument('--threads', type=int, default=2, help='intra-op threads for both (default 2)')
    p.add_argument('--runs', type=int, default=30)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--onnx', help='where to write the exported model (default: a temp file)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def timeit(fns, runs: int, warmup: int):
    """Milliseconds per call of each function, ``[(median, p10, p90), ...]``; the functions
    alternate within each run so that load from other processes hits them alike."""
    import numpy as np
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(runs):
        for fn, t in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            t.append((time.perf_counter() - t0) * 1e3)
    return [(float(np.median(t)), float(np.percentile(t, 10)), float(np.percentile(t, 90)))
            for t in times]


def main(argv=None):
    args = parse_args(argv)
    import numpy as np
    import torch

    from clamp_hand.apis.inference import init_model
    from clamp_hand.deployment import ExportableHeatmapModel, OnnxHandPoseRunner, export_onnx
    torch.set_num_threads(args.threads)
    model = init_model(args.config, args.checkpoint, cfg_options=args.cfg_options)
    n_params = sum(p.numel() for p in model.parameters())
    with tempfile.TemporaryDirectory() as tmp:
        onnx_file = args.onnx or osp.join(tmp, 'model.onnx')
        t0 = time.perf_counter()
        used = export_onnx(model, onnx_file)
        export_s = time.perf_counter() - t0
        runner = OnnxHandPoseRunner(onnx_file, num_threads=args.threads)
        wrapper = ExportableHeatmapModel(model).eval()
        w, h = model.cfg.model.codec['input_size']
        crop = np.random.default_rng(0).uniform(0, 255, (1, 3, h, w)).astype(np.float32)
        pair = np.concatenate([crop, crop[..., ::-1]])
        rows = []
        for label, x in (('1 crop', crop), ('flip test (2 crops)', pair)):
            xt = torch.from_numpy(np.ascontiguousarray(x))
            with torch.inference_mode():
                eager, ort_t = timeit([lambda: wrapper(xt), lambda: runner.run(x)],
                                      args.runs, args.warmup)
            rows.append((label, eager, ort_t))
        size_mb = os.path.getsize(onnx_file) / 2 ** 20
    print(f'{osp.basename(args.config)}: {n_params / 1e6:.1f}M parameters (incl. text encoder), '
          f'input {h}x{w}, {model.num_keypoints} keypoints, {args.threads} threads, '
          f'ONNX {size_mb:.0f} MB via {used} exporter in {export_s:.0f} s')
    print('| per hand | PyTorch eager ms (p10-p90) | onnxruntime ms (p10-p90) | speed-up |')
    print('| --- | --- | --- | --- |')
    for label, (em, e10, e90), (om, o10, o90) in rows:
        print(f'| {label} | {em:.1f} ({e10:.1f}-{e90:.1f}) | {om:.1f} ({o10:.1f}-{o90:.1f}) | '
              f'{em / om:.2f}x |')


if __name__ == '__main__':
    main()
