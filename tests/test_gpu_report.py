"""tools/analysis/gpu_report.py: its --dry-run (CPU, tiny configs, two steps) runs every section
through the same code as the GPU run, so the prepared GPU measurement cannot rot unseen."""
import importlib.util
import json
import os.path as osp

import pytest

from conftest import ROOT

TOOL = osp.join(ROOT, 'tools', 'analysis', 'gpu_report.py')


def _tool():
    spec = importlib.util.spec_from_file_location('gpu_report', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize('name,tflops', [
    ('NVIDIA H200', 989.4), ('NVIDIA H100 80GB HBM3', 989.4), ('NVIDIA H100 PCIe', 756.0),
    ('NVIDIA A100-SXM4-80GB', 312.0), ('NVIDIA A10G', 70.0), ('NVIDIA L40S', 362.0),
    ('NVIDIA L4', 121.0)])
def test_peak_flops_table_matches_the_specific_name_first(name, tflops):
    peak, source = _tool().peak_bf16_flops(name)
    assert peak == pytest.approx(tflops * 1e12), source


def test_unknown_device_has_no_peak_unless_given():
    tool = _tool()
    assert tool.peak_bf16_flops('Some Future GPU')[0] is None
    assert tool.peak_bf16_flops('Some Future GPU', 500)[0] == 500e12


def test_spent_budget_skips_every_section_and_still_writes_the_report(tmp_path):
    data = _tool().main(['--dry-run', '--budget-s', '0', '--out-dir', str(tmp_path)])
    assert {s['status'] for s in data['sections'].values()} == {'skipped'}
    assert 'skipped' in (tmp_path / 'gpu_report.md').read_text()


def test_unknown_section_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(SystemExit, match='--sections: unknown'):
        _tool().main(['--dry-run', '--sections', 'train,warp', '--out-dir', str(tmp_path)])


def test_dry_run_measures_every_section(tmp_path):
    # no time budget: on a loaded CPU the dry run is slow, and skipping is tested above
    data = _tool().main(['--dry-run', '--budget-s', '3600', '--out-dir', str(tmp_path)])
    on_disk = json.loads((tmp_path / 'gpu_report.json').read_text())
    assert on_disk['sections'].keys() == data['sections'].keys() == {
        'train', 'infer', 'memory', 'train_data', 'dist'}
    for name, sec in on_disk['sections'].items():
        assert sec['status'] == 'ok', (name, sec.get('error'), sec.get('output_tail'))
        for label, run in sec.get('runs', {}).items():
            assert run['status'] == 'ok', (name, label, run.get('traceback'))
    train = on_disk['sections']['train']['runs']
    assert set(train) == {'CLAMP eager', 'CLAMP compiled', 'text-free eager',
                          'text-free compiled'}
    for label, run in train.items():
        assert run['median_images_per_s'] > 0 and run['gflops_per_image'] > 0
        assert bool(run['compiled_parts']) == label.endswith('compiled')
        assert run['mfu'] is None  # a CPU has no entry in the peak table
    # CLAMP does more arithmetic per image than the same model without the text side
    assert train['CLAMP eager']['gflops_per_image'] > train['text-free eager']['gflops_per_image']
    mem = on_disk['sections']['memory']['runs']
    assert all(r['peak_memory_mb'] > 0 for r in mem.values()) and len(mem) == 4
    waits = on_disk['sections']['train_data']['runs']
    assert all(0 <= r['data_wait_fraction'] <= 1 for r in waits.values())
    dist = on_disk['sections']['dist']
    assert dist['returncode'] == 0 and dist['iterations_logged'] == dist['iterations_expected'] == 2
    md = (tmp_path / 'gpu_report.md').read_text()
    assert 'DRY RUN' in md and '| training images/s, batch 2, bf16, torch.compile |' in md
    assert 'exit 0, 2/2 iterations of 4' in md
