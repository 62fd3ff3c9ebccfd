"""Training / inference speed, peak memory and FLOPs of a config's model:

    python tools/analysis/benchmark.py CONFIG --mode {train,infer} [--batch-size 4]
        [--amp {bf16,fp16}] [--compile] [--flip-test] [--device auto|cpu|cuda]
        [--warmup 2] [--steps 10] [--rounds 1] [--threads N] [--with-data]
        [--cfg-options k=v ...] [--out result.json]
        [--against CONFIG|same [--against-cfg-options k=v ...] [--against-amp bf16]
         [--against-compile] [--against-no-compile]]

Weights are random (``model.pretrained`` is ignored); batches are synthetic and stay in memory
(targets made by the config's codec) unless ``--with-data``, which draws them from the config's
train (``--mode train``) or test loader, with worker settings fitted to this machine, and also
reports the time spent waiting for data. After ``--warmup`` steps, ``--steps`` steps are timed
per round. Printed and written as JSON: median images/s with the 25-75 % range over steps, s per
image (wall clock, and process CPU time: steadier on a shared machine), peak memory (CUDA max allocated; on CPU the process's peak RSS during the timed steps),
GFLOPs per image (one step, forward+backward in training; by torch's FlopCounterMode) and the
machine. ``--against`` measures a second variant in the same process, alternating rounds
(A B, B A, ...), and prints its time per image relative to the first (median of the per-round
ratios, wall clock and CPU time): ``same`` means CONFIG with the ``--against-*`` changes, e.g. ``--against same
--against-cfg-options model.cache_prompts=False``.

Switches for on/off measurements (all on by default except the last two):
``model.cache_prompts=False`` (CLAMP: re-run the text encoder at every forward),
``model.test_cfg.flip_batched=False`` (flip test as two passes), ``model.attn_impl=naive``
(explicit softmax(QK^T)V instead of scaled_dot_product_attention),
``model.backbone.drop_path_skip=False`` (drop path computes the dropped samples and zeroes them),
``model.backbone.with_checkpoint=True`` (activation checkpointing), ``--amp``, ``--compile``.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clamp_hand.apis.runner import DictAction  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--mode', choices=['train', 'infer'], required=True)
    p.add_argument('--batch-size', type=int, default=4)
    p.add_argument('--amp', choices=['bf16', 'fp16'], help='mixed precision (default: fp32)')
    p.add_argument('--compile', action='store_true', help='torch.compile the network parts')
    p.add_argument('--flip-test', action='store_true', help='inference with the flip test')
    p.add_argument('--device', default='auto', help='auto (CUDA if present), cpu, cuda, cuda:N')
    p.add_argument('--warmup', type=int, default=2, help='untimed steps first (default 2)')
    p.add_argument('--steps', type=int, default=10, help='timed steps per round (default 10)')
    p.add_argument('--rounds', type=int, default=1, help='rounds (alternating with --against)')
    p.add_argument('--threads', type=int, help='torch intra-op threads (default: torch\'s)')
    p.add_argument('--with-data', action='store_true',
                   help='batches from the config\'s data loader instead of synthetic ones')
    p.add_argument('--no-flops', action='store_true', help='skip the FLOP count')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='config overrides, e.g. model.cache_prompts=False')
    p.add_argument('--label', help='name of the first variant (default: the config name)')
    p.add_argument('--against', help='a second variant: a config, or "same"')
    p.add_argument('--against-cfg-options', nargs='+', action=DictAction, default={})
    p.add_argument('--against-amp', choices=['bf16', 'fp16', 'none'])
    p.add_argument('--against-compile', action='store_true')
    p.add_argument('--against-no-compile', action='store_true')
    p.add_argument('--against-label')
    p.add_argument('--out', help='write the JSON report here')
    return p.parse_args(argv)


def variants_from_args(args):
    from clamp_hand.benchmark import Variant
    name = lambda path: osp.splitext(osp.basename(path))[0]  # noqa: E731
    first = Variant(config=args.config, cfg_options=dict(args.cfg_options or {}), amp=args.amp,
                    compile=args.compile, label=args.label or name(args.config))
    if not args.against:
        return [first]
    same = args.against == 'same'
    if not same and not osp.isfile(args.against):
        raise SystemExit(f'--against {args.against!r}: not a config file (or "same")')
    options = dict(first.cfg_options) if same else {}
    options.update(args.against_cfg_options or {})
    amp = first.amp if args.against_amp is None else (None if args.against_amp == 'none'
                                                      else args.against_amp)
    compile_ = (first.compile or args.against_compile) and not args.against_no_compile
    config = args.config if same else args.against
    changes = [f'{k}={v}' for k, v in (args.against_cfg_options or {}).items()]
    changes += [f'amp={amp}'] if amp != first.amp else []
    changes += [f'compile={compile_}'] if compile_ != first.compile else []
    label = args.against_label or (name(config) + (' ' + ' '.join(changes) if changes else ''))
    return [first, Variant(config=config, cfg_options=options, amp=amp, compile=compile_,
                           label=label)]


def summary(report) -> str:
    lines = [f"{report['machine']['device']} ({report['machine']['cpu_model']}, "
             f"{report['machine']['torch_threads']} threads), mode={report['settings']['mode']}, "
             f"batch {report['settings']['batch_size']}"]
    for r in report['results']:
        lo, hi = r['iqr_images_per_s']
        flops = f"{r['gflops_per_image']:.2f}" if r['gflops_per_image'] is not None else 'n/a'
        lines.append(f"  {r['label']}: {r['median_images_per_s']:.3f} img/s ({lo:.3f}-{hi:.3f}), "
                     f"{r['median_s_per_image']:.4f} s/img "
                     f"({r['median_cpu_s_per_image']:.4f} CPU s/img), peak {r['peak_memory_mb']:.0f} MB, "
                     f"{flops} GFLOPs/img, {r['params_m']:.1f}M params")
        if 'data_wait_fraction' in r:
            lines.append(f"    waiting for data: {100 * r['data_wait_fraction']:.1f}% of step "
                         f"time (loader {r['dataloader']})")
    for q in report.get('ratios_to_first', []):
        lines.append(f"  {q['label']} / {report['results'][0]['label']}: "
                     f"{q['s_per_image_ratio']:.3f}x time per image "
                     f"({q['cpu_s_per_image_ratio']:.3f}x CPU time)")
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    from clamp_hand.benchmark import Settings, run_benchmark
    settings = Settings(mode=args.mode, batch_size=args.batch_size, flip_test=args.flip_test,
                        device=args.device, warmup=args.warmup, steps=args.steps,
                        rounds=args.rounds, with_data=args.with_data, threads=args.threads,
                        flops=not args.no_flops)
    report = run_benchmark(variants_from_args(args), settings)
    report['command'] = 'python tools/analysis/benchmark.py ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    print(summary(report))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
        print(f'wrote {args.out}')
    return report


if __name__ == '__main__':
    main()
