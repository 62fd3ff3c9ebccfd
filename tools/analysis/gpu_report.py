"""One prepared GPU measurement of ViT-B/16 CLAMP and its text-free baseline (issue 16):

    python tools/analysis/gpu_report.py [--out-dir work_dirs/gpu_report] [--budget-s 450]
        [--peak-tflops N] [--sections train,infer,memory,train_data,dist]
    python tools/analysis/gpu_report.py --dry-run    # CPU, tiny configs, 2 steps (the tests)

Sections, each with its own time budget (a measurement that would start after its section's
budget or the whole run's ``--budget-s`` is skipped and marked so; one that fails is marked
failed with its error and the others still run; the JSON is rewritten after every section, so
a run cut short keeps what it measured):

* ``train``: training images/s at batch 64 in bf16 autocast, eager and ``torch.compile`` (each
  network part compiled, as ``tools/analysis/benchmark.py --compile``), and the model FLOPs
  utilisation: model FLOPs per image of one training step (forward + backward, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` on the eager model; the compiled model does the
  same arithmetic) x images/s / the device's peak dense bf16 FLOPS (:data:`PEAK_BF16_TFLOPS`,
  or ``--peak-tflops``);
* ``infer``: inference images/s at batch 256 with the flip test (one batched pass over the
  image and its mirror, heatmap decoding included), bf16 autocast, eager;
* ``memory``: peak memory of a training step at batch 64 in bf16 without and with activation
  checkpointing of the image backbone (``model.backbone.with_checkpoint=True``; CUDA:
  ``torch.cuda.max_memory_allocated``);
* ``train_data``: training end to end with the data pipeline: batches from the config's train
  pipeline (LoadImage ... TopdownAffine, GenerateTarget) over rendered synthetic hands
  (``clamp_hand.datasets.synthetic_hands``) at the model's input size, loader workers as the
  config asks and as many as the machine allows (``num_workers='auto'``), with the share of
  step time spent waiting for data;
* ``dist``: ``bash tools/dist_train.sh CONFIG 1`` for one epoch of a few iterations on those
  synthetic hands (a derived config under the output folder), its exit status, iterations
  logged and wall time.

Models: ``configs/assemblyhands/clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py`` and
``configs/baselines/vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py``, random weights. The
measurements reuse ``clamp_hand.benchmark`` (model building, optimizer wrappers, timing with
device synchronisation, peak memory, FLOP counting). Writes ``OUT/gpu_report.json`` and
``OUT/gpu_report.md`` (a markdown table with the issue's targets for one H100/H200: >= 1500
training images/s, >= 35 % MFU, >= 5000 inference images/s).

``--dry-run`` runs the same code on the CPU with the tiny hand-samples configs (batch 2 / 4,
one warm-up and two timed steps, ``torch.compile`` with the ``eager`` backend so no compiler
runs, 8 synthetic images, a 2-iteration ``dist_train.sh`` run on gloo): the test suite runs it
so that the script cannot rot unseen. Its figures mean nothing.
"""
import argparse
import json
import os
import os.path as osp
import socket
import subprocess
import sys
import time
import traceback

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Peak dense (no sparsity) bf16 tensor-core throughput, TFLOPS, from NVIDIA's data sheets;
# matched against torch.cuda.get_device_name() in this order (first substring that matches).
PEAK_BF16_TFLOPS = (
    ('GH200', 989.4), ('H200', 989.4), ('H100 PCIe', 756.0), ('H100 NVL', 835.0),
    ('H100', 989.4), ('H800', 989.4), ('B200', 2250.0), ('B100', 1750.0),
    ('A100', 312.0), ('A800', 312.0), ('A10G', 70.0), ('A10', 125.0), ('A30', 165.0),
    ('L40S', 362.0), ('L40', 181.0), ('L4', 121.0), ('RTX 6000 Ada', 364.0),
    ('RTX 4090', 165.2), ('RTX 3090', 71.0),
)

VIT_B16 = (('CLAMP', 'configs/assemblyhands/'
                     'clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py'),
           ('text-free', 'configs/baselines/vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py'))
PROFILES = {
    'gpu': dict(
        models=VIT_B16,
        device='cuda', amp='bf16', train_batch=64, infer_batch=256, warmup=3, steps=10,
        data_images=512, dist_images=256, compile_options={},
        budgets=dict(train=270, infer=50, memory=45, train_data=70, dist=100)),
    'dry-run': dict(
        models=(('CLAMP', 'configs/hand_samples/clamp_vit-tiny_1xb12-40e_hand-samples-128x128.py'),
                ('text-free', 'configs/baselines/vit-tiny_1xb12-40e_hand-samples-128x128.py')),
        device='cpu', amp='bf16', train_batch=2, infer_batch=4, warmup=1, steps=2,
        data_images=8, dist_images=8, dist_batch=4, compile_options=dict(backend='eager'),
        # a CPU shared with other jobs can be many times slower than a quiet one: the dry run
        # must finish, not fit a budget (the skipping itself: --budget-s 0)
        budgets=dict(train=900, infer=900, memory=900, train_data=900, dist=900)),
}
SECTIONS = ('train', 'infer', 'memory', 'train_data', 'dist')
TARGETS = dict(train_images_per_s=1500, mfu=0.35, infer_images_per_s=5000)


def peak_bf16_flops(device_name, override_tflops=None):
    """``(peak FLOPS, where from)`` for ``device_name``; ``(None, reason)`` when unknown."""
    if override_tflops:
        return override_tflops * 1e12, '--peak-tflops'
    for key, tflops in PEAK_BF16_TFLOPS:
        if key.lower() in (device_name or '').lower():
            return tflops * 1e12, f'table: {key} {tflops} TFLOPS dense bf16'
    return None, f'no peak bf16 figure for {device_name!r}: pass --peak-tflops'


class Budget:
    """The run's deadline and the current section's: ``left()`` is the smaller remainder."""

    def __init__(self, total_s):
        self.start = time.perf_counter()
        self.end = self.start + total_s
        self.section_end = self.end

    def open_section(self, seconds):
        self.section_end = min(self.end, time.perf_counter() + seconds)

    def left(self):
        return min(self.end, self.section_end) - time.perf_counter()

    def elapsed(self):
        return time.perf_counter() - self.start


class Report:
    """The JSON report, rewritten after every section."""

    def __init__(self, out_dir, header):
        self.out_dir = out_dir
        self.data = dict(header, sections={})
        os.makedirs(out_dir, exist_ok=True)

    def put(self, name, value):
        self.data['sections'][name] = value
        self.write()

    def write(self):
        with open(osp.join(self.out_dir, 'gpu_report.json'), 'w') as f:
            json.dump(self.data, f, indent=1, default=str)
        with open(osp.join(self.out_dir, 'gpu_report.md'), 'w') as f:
            f.write(markdown(self.data))


def _bench(variants, settings):
    from clamp_hand.benchmark import run_benchmark
    return run_benchmark(variants, settings)


def _result_fields(res):
    keep = ('label', 'median_images_per_s', 'iqr_images_per_s', 'median_step_s', 'steps',
            'peak_memory_mb', 'memory_method', 'gflops_per_image', 'params_m',
            'compiled_parts', 'median_data_wait_s', 'data_wait_fraction', 'dataloader')
    return {k: res[k] for k in keep if k in res}


def measure_each(jobs, budget):
    """Run ``jobs`` (label, callable) in order while the budget lasts; returns
    ``{label: result or {'status': 'skipped'/'failed', ...}}``."""
    out = {}
    for label, job in jobs:
        if budget.left() <= 0:
            out[label] = dict(status='skipped', reason='time budget spent')
            continue
        t0 = time.perf_counter()
        try:
            out[label] = dict(job(), status='ok', seconds=round(time.perf_counter() - t0, 1))
        except Exception as e:  # one failed measurement must not lose the others
            out[label] = dict(status='failed', error=f'{type(e).__name__}: {e}',
                              traceback=traceback.format_exc()[-2000:])
    return out


def section_train(p, budget, peak):
    from clamp_hand.benchmark import Settings, Variant
    settings = Settings(mode='train', batch_size=p['train_batch'], device=p['device'],
                        warmup=p['warmup'], steps=p['steps'])
    flops = {}

    def job(name, cfg, compiled):
        def run():
            v = Variant(config=cfg, amp=p['amp'], compile=compiled,
                        compile_options=p['compile_options'],
                        label=f'{name} {"compiled" if compiled else "eager"}')
            res = _bench([v], settings)['results'][0]
            if res['gflops_per_image'] is not None:
                flops[name] = res['gflops_per_image']
            gf = flops.get(name)
            out = _result_fields(res)
            out['gflops_per_image'] = gf
            out['mfu'] = (gf * 1e9 * res['median_images_per_s'] / peak) if gf and peak else None
            return out
        return run

    jobs = [(f'{n} eager', job(n, c, False)) for n, c in p['models']]
    jobs += [(f'{n} compiled', job(n, c, True)) for n, c in p['models']]
    return dict(batch_size=p['train_batch'], amp=p['amp'], runs=measure_each(jobs, budget))


def section_infer(p, budget, peak):
    from clamp_hand.benchmark import Settings, Variant
    settings = Settings(mode='infer', batch_size=p['infer_batch'], flip_test=True,
                        device=p['device'], warmup=p['warmup'], steps=p['steps'])

    def job(name, cfg):
        return lambda: _result_fields(_bench(
            [Variant(config=cfg, amp=p['amp'], label=f'{name} flip test')], settings)['results'][0])

    return dict(batch_size=p['infer_batch'], amp=p['amp'], flip_test=True,
                runs=measure_each([(n, job(n, c)) for n, c in p['models']], budget))


def section_memory(p, budget, peak):
    from clamp_hand.benchmark import Settings, Variant
    settings = Settings(mode='train', batch_size=p['train_batch'], device=p['device'],
                        warmup=1, steps=2, flops=False)

    def job(name, cfg, ckpt):
        opts = {'model.backbone.with_checkpoint': True} if ckpt else {}
        return lambda: _result_fields(_bench(
            [Variant(config=cfg, cfg_options=opts, amp=p['amp'])], settings)['results'][0])

    jobs = []
    for n, c in p['models']:
        jobs += [(f'{n} without checkpointing', job(n, c, False)),
                 (f'{n} with checkpointing', job(n, c, True))]
    return dict(batch_size=p['train_batch'], amp=p['amp'], runs=measure_each(jobs, budget))


def synthetic_dataset(p, out_dir, cfg_path, num_images):
    """Render ``num_images`` one-hand synthetic images at the config's input size (once per
    folder) and return the ``train_dataloader.dataset`` that reads them with the config's own
    train pipeline (keypoint metadata: the wrist-first 21-keypoint layout of the generator)."""
    from mmengine.config import Config

    from clamp_hand.apis.runner import load_config
    from clamp_hand.datasets.synthetic_hands import generate_split
    from clamp_hand.engine.dataloader_defaults import usable_cpus
    cfg = load_config(osp.join(ROOT, cfg_path))
    size = int(cfg.codec['input_size'][0])
    data_dir = osp.join(out_dir, f'synthhands_{size}px_{num_images}')
    if not osp.isfile(osp.join(data_dir, 'annotations', 'train.json')):
        generate_split(data_dir, 'train', num_images, size=size, num_hands=1, seed=0,
                       workers=max(1, min(16, usable_cpus())), progress=False)
    if 'train_pipeline' not in cfg:
        raise KeyError(f'{cfg_path}: no top-level train_pipeline to feed the synthetic hands')
    meta = Config.fromfile(osp.join(ROOT, 'configs/_base_/datasets/hand21_wrist_first.py'))
    return dict(_delete_=True, type='HandKeypointDataset', data_root=data_dir + '/',
                metainfo=meta.dataset_info.to_dict(), data_prefix=dict(img='images/'),
                ann_file='annotations/train.json', pipeline=[dict(t) for t in cfg.train_pipeline])


def section_train_data(p, budget, peak, out_dir):
    from clamp_hand.benchmark import Settings, Variant
    name, cfg = p['models'][0]
    dataset = synthetic_dataset(p, out_dir, cfg, p['data_images'])
    settings = Settings(mode='train', batch_size=p['train_batch'], device=p['device'],
                        warmup=p['warmup'], steps=p['steps'], with_data=True, flops=False)

    def job(workers):
        opts = {'train_dataloader.dataset': dataset}
        if workers is not None:
            opts['train_dataloader.num_workers'] = workers
        return lambda: _result_fields(_bench(
            [Variant(config=cfg, cfg_options=opts, amp=p['amp'])], settings)['results'][0])

    jobs = [(f'{name}, workers as configured', job(None)),
            (f'{name}, workers auto', job('auto'))]
    return dict(batch_size=p['train_batch'], amp=p['amp'], images=p['data_images'],
                runs=measure_each(jobs, budget))


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def section_dist(p, budget, peak, out_dir):
    name, cfg = p['models'][0]
    dataset = synthetic_dataset(p, out_dir, cfg, p['dist_images'])
    batch = p.get('dist_batch', p['train_batch'])
    work = osp.join(out_dir, 'dist_train')
    derived = osp.join(out_dir, 'dist_train_config.py')
    with open(derived, 'w') as f:  # one epoch over the synthetic hands, no validation or saving
        f.write(f"_base_ = [{osp.join(ROOT, cfg)!r}]\n"
                f"model = dict(pretrained=None)\n"
                f"train_dataloader = dict(batch_size={batch}, dataset={dataset!r})\n"
                "train_cfg = dict(max_epochs=1, val_begin=1000)\n"
                "default_hooks = dict(logger=dict(interval=1), "
                "checkpoint=dict(interval=1000, save_last=False))\n")
    env = dict(os.environ, PORT=str(_free_port()), PYTHON=sys.executable)
    cmd = ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), derived, '1', '--work-dir', work]
    if p['amp']:
        cmd.append('--amp')
    t0 = time.perf_counter()
    timeout = max(budget.left(), 1.0)
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
        rc, tail = proc.returncode, proc.stdout[-3000:]
    except subprocess.TimeoutExpired as e:
        rc, tail = 'timeout', (e.stdout or b'')[-3000:]
        tail = tail.decode(errors='replace') if isinstance(tail, bytes) else tail
    seconds = time.perf_counter() - t0
    iters = 0
    for root, _, files in os.walk(work):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                iters = max(iters, sum(1 for line in f if '"loss"' in line))
    expected = p['dist_images'] // batch
    return dict(command=' '.join(cmd), returncode=rc, seconds=round(seconds, 1),
                iterations_logged=iters, iterations_expected=expected, batch_size=batch,
                status='ok' if rc == 0 and iters == expected else 'failed',
                output_tail=tail if rc != 0 else tail[-600:])


def _fmt(x, pattern='{:.0f}'):
    return pattern.format(x) if isinstance(x, (int, float)) else 'n/a'


def markdown(data):
    """The report as a markdown table (CLAMP and text-free columns, the issue's targets)."""
    s = data['sections']
    names = [n for n, _ in data['models']]
    lines = [f"Device: {data['device_name']} ({data['device']}); torch {data['torch']}, CUDA "
             f"{data.get('cuda')}; peak bf16: {data['peak_source']}; "
             + ('DRY RUN (CPU, tiny configs): the figures mean nothing' if data['dry_run'] else ''),
             f"Command: `{data['command']}`; run time {_fmt(data.get('elapsed_s'))} s", '',
             '| what | ' + ' | '.join(names) + ' | target (one H100/H200) |',
             '| --- |' + ' --- |' * (len(names) + 1)]

    def run(section, label):
        return s.get(section, {}).get('runs', {}).get(label, {})

    def cell(r, key, pattern='{:.0f}', scale=1.0):
        if not r:
            return 'not run'
        if r.get('status') != 'ok':
            return r.get('status', '?')
        v = r.get(key)
        return _fmt(v * scale, pattern) if isinstance(v, (int, float)) else 'n/a'

    tb = s.get('train', {}).get('batch_size')
    rows = [
        (f'training images/s, batch {tb}, bf16, eager', 'train', '{} eager',
         'median_images_per_s', '{:.0f}', 1, ''),
        (f'training images/s, batch {tb}, bf16, torch.compile', 'train', '{} compiled',
         'median_images_per_s', '{:.0f}', 1, '>= 1500'),
        ('model FLOPs per image, training step (GFLOPs)', 'train', '{} eager',
         'gflops_per_image', '{:.1f}', 1, ''),
        ('MFU, eager (%)', 'train', '{} eager', 'mfu', '{:.1f}', 100, ''),
        ('MFU, torch.compile (%)', 'train', '{} compiled', 'mfu', '{:.1f}', 100, '>= 35 %'),
        (f"inference images/s, batch {s.get('infer', {}).get('batch_size')}, flip test, bf16",
         'infer', '{}', 'median_images_per_s', '{:.0f}', 1, '>= 5000'),
        (f'peak training memory, batch {tb} (MB), no checkpointing', 'memory',
         '{} without checkpointing', 'peak_memory_mb', '{:.0f}', 1, ''),
        (f'peak training memory, batch {tb} (MB), activation checkpointing', 'memory',
         '{} with checkpointing', 'peak_memory_mb', '{:.0f}', 1, ''),
    ]
    for title, sec, pattern, key, fmt, scale, target in rows:
        cells = [cell(run(sec, pattern.format(n)), key, fmt, scale) for n in names]
        lines.append(f'| {title} | ' + ' | '.join(cells) + f' | {target} |')
    td = s.get('train_data', {})
    for label, r in td.get('runs', {}).items():
        wait = r.get('data_wait_fraction')
        val = (f"{_fmt(r.get('median_images_per_s'))} images/s, waiting for data "
               f"{_fmt(wait * 100 if isinstance(wait, float) else None, '{:.0f}')} % "
               f"(loader {r.get('dataloader')})") if r.get('status') == 'ok' else r.get('status')
        lines.append(f'| training with the data pipeline ({td.get("images")} synthetic hands), '
                     f'{label} | {val} |' + ' |' * (len(names) - 1) + ' |')
    d = s.get('dist')
    if d:
        val = (f"exit {d.get('returncode')}, {d.get('iterations_logged')}/"
               f"{d.get('iterations_expected')} iterations of {d.get('batch_size')}, "
               f"{d.get('seconds')} s" if 'returncode' in d else d.get('status'))
        lines.append(f"| `tools/dist_train.sh CONFIG 1`, one epoch | {val} |"
                     + ' |' * (len(names) - 1) + ' |')
    for name, sec in s.items():
        if sec.get('status') in ('skipped', 'failed'):
            why = sec.get('reason') or sec.get('error')
            lines.append(f"\nSection {name}: {sec['status']} ({why})")
    return '\n'.join(lines) + '\n'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out-dir', default='work_dirs/gpu_report')
    p.add_argument('--dry-run', action='store_true',
                   help='CPU, tiny configs, two steps: the same code paths, for the tests')
    p.add_argument('--budget-s', type=float, default=450,
                   help='whole-run time budget in seconds (default 450: under 8 min)')
    p.add_argument('--peak-tflops', type=float,
                   help='peak dense bf16 TFLOPS of the device, if not in the table')
    p.add_argument('--sections', default=','.join(SECTIONS),
                   help=f'comma-separated subset of {",".join(SECTIONS)}')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sections = [s for s in args.sections.split(',') if s]
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        raise SystemExit(f'--sections: unknown {bad}; choose from {",".join(SECTIONS)}')
    import torch

    from clamp_hand.registry import register_all_modules
    register_all_modules()
    p = PROFILES['dry-run' if args.dry_run else 'gpu']
    if p['device'] == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('gpu_report.py: no CUDA device here; run it on a GPU machine, or use '
                         '--dry-run to check the script on the CPU')
    device_name = (torch.cuda.get_device_name(0) if p['device'] == 'cuda'
                   else 'CPU (dry run)')
    peak, peak_source = peak_bf16_flops(device_name if p['device'] == 'cuda' else '',
                                        args.peak_tflops)
    if p['device'] == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    out_dir = osp.abspath(args.out_dir)
    budget = Budget(args.budget_s)
    report = Report(out_dir, dict(
        command='python tools/analysis/gpu_report.py ' + ' '.join(
            sys.argv[1:] if argv is None else argv),
        dry_run=args.dry_run, device=p['device'], device_name=device_name,
        torch=torch.__version__, cuda=torch.version.cuda, peak_flops=peak,
        peak_source=peak_source, models=[list(m) for m in p['models']],
        budget_s=args.budget_s, section_budgets_s=p['budgets'],
        started=time.strftime('%Y-%m-%d %H:%M:%S %Z')))
    runners = dict(train=lambda: section_train(p, budget, peak),
                   infer=lambda: section_infer(p, budget, peak),
                   memory=lambda: section_memory(p, budget, peak),
                   train_data=lambda: section_train_data(p, budget, peak, out_dir),
                   dist=lambda: section_dist(p, budget, peak, out_dir))
    for name in SECTIONS:
        if name not in sections:
            continue
        budget.open_section(p['budgets'][name])
        if budget.left() <= 0:
            report.put(name, dict(status='skipped', reason='time budget spent'))
            continue
        t0 = time.perf_counter()
        try:
            result = runners[name]()
            result.setdefault('status', 'ok')
        except Exception as e:
            result = dict(status='failed', error=f'{type(e).__name__}: {e}',
                          traceback=traceback.format_exc()[-3000:])
        result['seconds'] = round(time.perf_counter() - t0, 1)
        report.put(name, result)
        print(f'[gpu_report] {name}: {result["status"]} in {result["seconds"]} s', flush=True)
    report.data['elapsed_s'] = round(budget.elapsed(), 1)
    report.write()
    print(markdown(report.data))
    print(f'wrote {osp.join(out_dir, "gpu_report.json")} and gpu_report.md')
    return report.data


if __name__ == '__main__':
    main()
