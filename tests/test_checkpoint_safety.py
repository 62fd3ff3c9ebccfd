"""A checkpoint is data: opening one never runs code (issue 18).

Two evil checkpoints made from a real training checkpoint, as in the issue: (1) one extra
object in ``meta`` whose unpickling runs code (``__reduce__`` -> ``exec`` writing a marker file,
or ``os.system``), (2) two lines of Python put in front of a text ``meta.cfg``; and an evil
object inside an original-CLAMP-style (mmcv 1.x) checkpoint. Every path that reads a checkpoint
refuses them with a message naming the file and what it holds, and the marker never appears.
With the opt-in (``--trust-checkpoint`` / ``trust=True``) the trusted file loads. The
checkpoints the project writes (training, best, published) and original-CLAMP files (numpy 1.x
names included) load without it and give the same weights, config, metrics and keypoints.
"""
import hashlib
import io
import os
import os.path as osp
import pickle
import zipfile

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer

from clamp_hand.checkpoint import (UnsafeCheckpointError, config_from_checkpoint,
                                   config_to_data, parse_literal_config, read_checkpoint)
from conftest import HAND_SAMPLES, load_tool, require_hand_samples, run_tool
from reliability_utils import DIST_CHECK_CFG, VAL_CFG

CFG = '''
_base_ = [{base!r}]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2, by_epoch=False, max_keep_ckpts=1,
                                     save_best='coco/AP', rule='greater'))
'''
TEST_CFG = '''
test_dataloader = val_dataloader
test_cfg = dict(_delete_=True, type='TestLoop')
test_evaluator = val_evaluator
'''
REFUSED = 'refused to open'


class Payload:
    """Unpickling it runs ``code`` (as a malicious checkpoint would)."""

    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return exec, (self.code,)


class ShellPayload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def write_marker_code(marker):
    return f"open({str(marker)!r}, 'w').write('the checkpoint ran code')"


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """A 2-iteration training run: config, iter_2.pth (training) and best_*.pth."""
    require_hand_samples()
    from clamp_hand.apis import train
    tmp = tmp_path_factory.mktemp('ckpt_safety')
    cfg = tmp / 'tiny.py'
    cfg.write_text(CFG.format(base=DIST_CHECK_CFG) + VAL_CFG.format(root=HAND_SAMPLES + '/')
                   + TEST_CFG)
    work = tmp / 'work'
    train(str(cfg), work_dir=str(work))
    best = [p for p in os.listdir(work) if p.startswith('best_') and p.endswith('.pth')]
    assert len(best) == 1, os.listdir(work)
    return dict(tmp=tmp, cfg=str(cfg), ckpt=str(work / 'iter_2.pth'), best=str(work / best[0]))


@pytest.fixture(scope='module')
def clean_metrics(run):
    """tools/test.py on the training checkpoint."""
    return load_tool('tools/test.py').main([run['cfg'], run['ckpt'], '--work-dir',
                                            str(run['tmp'] / 'clean_test')])


@pytest.fixture(scope='module')
def evil(run):
    """The evil checkpoints of the issue, and the marker files their payloads would write."""
    tmp = run['tmp']
    ckpt = read_checkpoint(run['ckpt'])
    out = dict(marker=tmp / 'marker_meta', marker_cfg=tmp / 'marker_cfg',
               marker_orig=tmp / 'marker_orig', marker_sh=tmp / 'marker_shell')
    one = dict(ckpt, meta=dict(ckpt['meta'], evil=Payload(write_marker_code(out['marker']))))
    out['meta'] = str(tmp / 'evil_meta.pth')
    torch.save(one, out['meta'])
    shell = dict(ckpt, meta=dict(ckpt['meta'], evil=ShellPayload(out['marker_sh'])))
    out['shell'] = str(tmp / 'evil_shell.pth')
    torch.save(shell, out['shell'])
    text = Config(ckpt['meta']['cfg'], format_python_code=False).pretty_text
    two = dict(ckpt, meta=dict(ckpt['meta'], cfg='import os\nos.system(' +
                               repr(f'touch {out["marker_cfg"]}') + ')\n' + text))
    out['cfg'] = str(tmp / 'evil_cfg.pth')
    torch.save(two, out['cfg'])
    # an original CLAMP / Hand-CLAMP (mmcv 1.x) checkpoint with an evil object in its meta
    from test_seed_checkpoint_conversion import original_shapes, random_state_dict
    from clamp_hand.registry import MODELS
    enc = MODELS.build(Config.fromfile(run['cfg']).model).text_encoder
    shapes = original_shapes(21, enc.num_contexts, enc.seq_length - enc.num_contexts, width=96,
                             layers=2, patch=8, image=64, embed=64, text_width=64, text_layers=1,
                             dec_width=64, dec_layers=1, head_filters=(32, 32))
    original = dict(meta=mmcv1_meta(), state_dict=random_state_dict(shapes, seed=3))
    out['original_clean'] = str(tmp / 'original.pth')
    save_as_numpy1(original, out['original_clean'])
    original['meta']['evil'] = Payload(write_marker_code(out['marker_orig']))
    out['original'] = str(tmp / 'evil_original.pth')
    torch.save(original, out['original'])
    return out


def mmcv1_meta():
    """``meta`` as mmcv 1.x ``save_checkpoint`` and mmpose 0.x training write it (config text,
    numpy ``best_score`` in ``hook_msgs``)."""
    return dict(mmcv_version='1.7.1', time='Mon Jan  9 12:00:00 2023', mmpose_version='0.29.0',
                env_info='sys.platform: linux', seed=0, exp_name='CLAMP_ViTB_ap10k_256x256.py',
                config="model = dict(type='CLAMP', class_names=['wrist'], context_length=11)\n"
                       'gpu_ids = range(0, 1)\n',
                epoch=210, iter=105000,
                hook_msgs=dict(last_ckpt='work_dirs/epoch_210.pth', best_score=np.float64(0.61),
                               best_ckpt='work_dirs/best_AP_epoch_200.pth'))


def save_as_numpy1(obj, path):
    """``torch.save`` in the legacy format with numpy's globals renamed to numpy 1.x's
    (``numpy.core.multiarray``), as files written with numpy < 2 name them."""
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue().replace(b'numpy._core.multiarray\n', b'numpy.core.multiarray\n')
    assert b'numpy.core.multiarray\n' in data
    with open(path, 'wb') as f:
        f.write(data)


@pytest.fixture(autouse=True)
def no_marker_left(request):
    """After every test that does not opt in, no payload has run."""
    yield
    if 'evil' in request.fixturenames and 'trusted' not in request.node.name:
        ev = request.getfixturevalue('evil')
        for key in ('marker', 'marker_cfg', 'marker_orig', 'marker_sh'):
            assert not ev[key].exists(), f'{key}: the checkpoint ran code'


# ---- the reader ------------------------------------------------------------------------------
def test_reader_refuses_each_evil_file_naming_file_and_global(evil):
    for key, name in (('meta', 'builtins.exec'), ('shell', 'posix.system'),
                      ('original', 'builtins.exec')):
        with pytest.raises(UnsafeCheckpointError) as e:
            read_checkpoint(evil[key])
        msg = str(e.value)
        assert evil[key] in msg and REFUSED in msg and '--trust-checkpoint' in msg, msg
        assert name in msg, msg
    with pytest.raises(UnsafeCheckpointError, match=r'meta.cfg: line 1 is not a literal config '
                                                     r"entry: 'import os'"):
        read_checkpoint(evil['cfg'])


def test_a_corrupt_file_is_told_apart_from_an_unsafe_one(run, tmp_path):
    for name, data in (('garbage.pth', b'\x00not a checkpoint' * 100),
                       ('truncated.pth', open(run['ckpt'], 'rb').read()[:100000])):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match='cannot be read as a checkpoint') as e:
            read_checkpoint(str(tmp_path / name))
        assert not isinstance(e.value, UnsafeCheckpointError) and name in str(e.value)


def test_a_general_getattr_and_foreign_history_methods_are_refused(tmp_path):
    class GetattrPayload:
        def __reduce__(self):
            return getattr, (np.ndarray, 'tofile')
    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(meta=dict(x=GetattrPayload())), path)
    with pytest.raises(UnsafeCheckpointError, match='getattr'):
        read_checkpoint(path)
    buf = HistoryBuffer([1.0, 2.0], [1, 1])
    buf._statistics_methods = dict(buf._statistics_methods, mean=np.ndarray)  # not its own
    path = str(tmp_path / 'hub.pth')
    torch.save(dict(message_hub=dict(log_scalars=dict(loss=buf))), path)
    with pytest.raises(UnsafeCheckpointError):
        read_checkpoint(path)
    assert HistoryBuffer._statistics_methods['mean'] is HistoryBuffer.mean


def test_trusted_file_loads_with_the_opt_in(evil):
    ckpt = read_checkpoint(evil['meta'], trust=True)
    assert evil['marker'].exists()  # full unpickling is what the opt-in does
    evil['marker'].unlink()
    assert 'state_dict' in ckpt


# ---- what the project writes loads without the opt-in, unchanged ----------------------------
def test_project_checkpoints_load_as_data_with_the_same_content(run):
    """(mmengine's own allowlist misses numpy's dtype classes: its loader fell back to full
    unpickling even for these files.)"""
    for path in (run['ckpt'], run['best']):
        assert sorted(g for g in torch.serialization.get_unsafe_globals_in_checkpoint(path)) == \
            sorted(['builtins.getattr', 'mmengine.logging.history_buffer.HistoryBuffer',
                    'numpy._core.multiarray._reconstruct', 'numpy._core.multiarray.scalar',
                    'numpy.dtype', 'numpy.ndarray'])
        ours = read_checkpoint(path)
        ref = torch.load(path, map_location='cpu', weights_only=False)  # our own file: trusted
        assert ours.keys() == ref.keys()
        for k, v in ref['state_dict'].items():
            assert torch.equal(ours['state_dict'][k], v)
        hub, ref_hub = ours['message_hub'], ref['message_hub']
        for k, v in ref_hub['log_scalars'].items():
            assert type(hub['log_scalars'][k]) is HistoryBuffer
            assert np.array_equal(hub['log_scalars'][k].data[0], v.data[0])
            assert hub['log_scalars'][k].mean() == v.mean()
        assert pickle.dumps(ours['meta']['dataset_meta']) == pickle.dumps(
            ref['meta']['dataset_meta'])
        # the config is stored as data: the run's resolved config
        stored, source = ours['meta']['cfg'], config_to_data(Config.fromfile(run['cfg']))
        assert isinstance(stored, dict) and set(source) <= set(stored)
        assert stored['model'] == dict(source['model'], pretrained=None)  # set by build_runner
        assert stored['work_dir'] == osp.dirname(path)
        assert stored['val_evaluator'] == source['val_evaluator']
        assert isinstance(hub['runtime_info']['cfg'], dict)
    assert 'optimizer' in read_checkpoint(run['ckpt'])


def test_old_text_config_reads_as_data_like_mmengine(run, tmp_path):
    """Checkpoints of before this change hold yapf-rendered text (mmengine's pretty_text):
    the literal reader gives what Config.fromstring gave, and init_model the same model."""
    from clamp_hand.apis.inference import inference, init_model
    ckpt = read_checkpoint(run['ckpt'])
    text = Config(ckpt['meta']['cfg']).pretty_text  # with yapf, as mmengine wrote it
    from clamp_hand.datasets.keypoint_order import restore_keypoint_order
    assert config_from_checkpoint(text, 'x').to_dict() == \
        restore_keypoint_order(Config.fromstring(text, '.py')).to_dict()
    assert list(parse_literal_config(text)['dataset_info']['keypoint_info'])[:3] == [0, 1, 10]
    old = str(tmp_path / 'old.pth')
    torch.save(dict(ckpt, meta=dict(ckpt['meta'], cfg=text)), old)
    img = next(osp.join(HAND_SAMPLES, 'freihand', f) for f in
               sorted(os.listdir(osp.join(HAND_SAMPLES, 'freihand'))) if f.endswith('.jpg'))
    a = inference(init_model(None, old), img)[0]
    b = inference(init_model(None, run['ckpt']), img)[0]
    assert np.array_equal(a['keypoints'], b['keypoints'])
    assert init_model(None, old).dataset_meta['flip_indices'] == list(
        init_model(None, run['ckpt']).dataset_meta['flip_indices'])


@pytest.mark.parametrize('line', ['import os', "x = __import__('os').getcwd()", 'x = y',
                                  "x = range('a')", 'x = range(10**100)', 'x = range(10000000)',
                                  "x = dict(a=open('f'))", 'x = 1 + 1', "x = [f'{1}']"])
def test_literal_reader_refuses_anything_but_literals(line):
    with pytest.raises(UnsafeCheckpointError, match=r'f.pth: meta.cfg: line 2 is not a literal'):
        parse_literal_config('a = dict(b=[1, -2.5, (3, None)], c={0: True})\n' + line,
                             'f.pth: meta.cfg')
    assert parse_literal_config("a = dict({0: 'x'}, b=-1)\ngpu_ids = range(0, 2)\n") == \
        dict(a={0: 'x', 'b': -1}, gpu_ids=[0, 1])


def test_original_checkpoint_with_numpy1_names_loads_and_converts(evil, tmp_path):
    ckpt = read_checkpoint(evil['original_clean'])
    assert ckpt['meta']['hook_msgs']['best_score'] == np.float64(0.61)
    assert parse_literal_config(ckpt['meta']['config'])['gpu_ids'] == [0]
    tool = load_tool('tools/model_converters/clamp_original_to_clamp_hand.py')
    report = tool.convert(evil['original_clean'], str(tmp_path / 'converted.pth'))
    assert report.unplaced == {}
    assert read_checkpoint(str(tmp_path / 'converted.pth'))['meta']['layout']['num_keypoints'] == 21


# ---- every path refuses the evil files ------------------------------------------------------
def _refused(fn, key_or_path, evil, exc=UnsafeCheckpointError):
    with pytest.raises(exc) as e:
        fn()
    assert key_or_path in str(e.value), str(e.value)
    return str(e.value)


@pytest.mark.parametrize('which', ['meta', 'cfg'])
def test_tools_test_refuses(run, evil, which):
    tool = load_tool('tools/test.py')
    _refused(lambda: tool.main([run['cfg'], evil[which], '--work-dir',
                                str(run['tmp'] / f'test_{which}')]), evil[which], evil)


def test_tools_test_refuses_an_evil_original_checkpoint(run, evil):
    """(the convert-on-load hook never sees it)"""
    tool = load_tool('tools/test.py')
    _refused(lambda: tool.main([run['cfg'], evil['original'], '--work-dir',
                                str(run['tmp'] / 'test_orig')]), evil['original'], evil)


def test_dist_test_sh_refuses(run, evil):
    proc = run_tool(['bash', 'tools/dist_test.sh', run['cfg'], evil['meta'], '1', '--work-dir',
                     str(run['tmp'] / 'dist')], check=False, env=dict(PORT='29517'))
    assert proc.returncode != 0 and REFUSED in proc.stdout, proc.stdout[-3000:]


@pytest.mark.parametrize('which', ['meta', 'cfg'])
def test_training_resume_and_load_from_refuse(run, evil, which):
    tool = load_tool('tools/train.py')
    work = str(run['tmp'] / f'train_{which}')
    _refused(lambda: tool.main([run['cfg'], '--work-dir', work, '--resume', evil[which]]),
             evil[which], evil)
    _refused(lambda: tool.main([run['cfg'], '--work-dir', work, '--cfg-options',
                                f'load_from={evil[which]}']), evil[which], evil)


def test_mmengine_loaders_refuse(evil, run, tmp_path):
    """mmengine's own paths (CheckpointLoader, load_checkpoint as init_cfg=Pretrained uses it,
    and the runner's auto-resume, which finds the file itself) read through the reader."""
    from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
    from clamp_hand.checkpoint import trusted_checkpoints
    _refused(lambda: _load_checkpoint(evil['meta']), evil['meta'], evil)
    _refused(lambda: load_checkpoint(torch.nn.Linear(1, 1), evil['cfg']), evil['cfg'], evil)
    work = tmp_path / 'auto'
    work.mkdir()
    (work / 'last_checkpoint').write_text(evil['meta'])
    tool = load_tool('tools/train.py')
    _refused(lambda: tool.main([run['cfg'], '--work-dir', str(work), '--resume']), evil['meta'],
             evil)
    with trusted_checkpoints(True):
        assert 'state_dict' in _load_checkpoint(evil['meta'])
    assert evil['marker'].exists()
    evil['marker'].unlink()


def test_resume_refuses_a_non_literal_mmcv1_config(run, tmp_path):
    """mmengine's resume runs meta['config'] through Config.fromstring: only literal text is
    handed on (and only its gpu_ids)."""
    ckpt = read_checkpoint(run['ckpt'])
    marker = tmp_path / 'marker'
    bad = str(tmp_path / 'bad_config.pth')
    torch.save(dict(ckpt, meta=dict(ckpt['meta'], config=f'import os\n'
                                     f'os.system("touch {marker}")\n')), bad)
    tool = load_tool('tools/train.py')
    with pytest.raises(UnsafeCheckpointError, match='meta.config: line 1'):
        tool.main([run['cfg'], '--work-dir', str(tmp_path / 'w'), '--resume', bad])
    assert not marker.exists()


@pytest.mark.parametrize('which', ['meta', 'cfg'])
def test_init_model_and_infer_refuse(run, evil, which, tmp_path):
    from clamp_hand.apis.inference import init_model
    _refused(lambda: init_model(None, evil[which]), evil[which], evil)
    _refused(lambda: init_model(run['cfg'], evil[which]), evil[which], evil)
    tool = load_tool('tools/infer.py')
    img = osp.join(HAND_SAMPLES, 'freihand')
    _refused(lambda: tool.main([evil[which], img, '--out-dir', str(tmp_path)]), evil[which], evil)


@pytest.mark.parametrize('which', ['meta', 'cfg'])
def test_onnx_export_refuses(evil, which, tmp_path):
    tool = load_tool('tools/deployment/export_onnx.py')
    _refused(lambda: tool.main(['-', evil[which], '--out', str(tmp_path / 'm.onnx')]),
             evil[which], evil)


def test_original_converter_refuses(evil, tmp_path):
    tool = load_tool('tools/model_converters/clamp_original_to_clamp_hand.py')
    msg = _refused(lambda: tool.main([evil['original'], str(tmp_path / 'c.pth')]), evil['original'],
                   evil, SystemExit)
    assert 'builtins.exec' in msg and not (tmp_path / 'c.pth').exists()


@pytest.mark.parametrize('which', ['meta', 'cfg'])
def test_publish_model_refuses(evil, which, tmp_path):
    tool = load_tool('tools/misc/publish_model.py')
    _refused(lambda: tool.main([evil[which], str(tmp_path / 'p.pth')]), evil[which], evil,
             SystemExit)
    assert os.listdir(tmp_path) == []


def test_clip_weights_refuse_evil_pickles_and_torchscript(evil, tmp_path):
    from clamp_hand.models.clip_formats import read_clip_checkpoint
    _refused(lambda: read_clip_checkpoint(evil['meta']), evil['meta'], evil)
    # a "TorchScript archive" whose data.pkl runs code: read as data, refused
    path = tmp_path / 'ViT-B-16.pt'
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('ViT-B-16/data.pkl', pickle.dumps(Payload(write_marker_code(evil['marker'])),
                                                     protocol=2))
        z.writestr('ViT-B-16/constants.pkl', pickle.dumps((), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r'names __builtin__\.exec'):
        read_clip_checkpoint(str(path))


@pytest.mark.filterwarnings('ignore::FutureWarning', 'ignore::torch.jit.TracerWarning')
def test_torchscript_archive_tensors_match_torch_jit(tmp_path):
    from clamp_hand.models.clip_formats import read_torchscript_tensors

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
            self.p = torch.nn.Parameter(torch.randn(2, 3).t())  # non-contiguous
            self.register_buffer('b', torch.tensor(5))

        def forward(self, x):
            return self.seq(x) + self.p.sum() + self.b
    path = str(tmp_path / 'm.pt')
    torch.jit.save(torch.jit.trace(M(), torch.randn(1, 3)).half(), path)
    ref = torch.jit.load(path).state_dict()
    got = read_torchscript_tensors(path)
    assert list(got) == list(ref)
    for k, v in ref.items():
        assert got[k].dtype == v.dtype and torch.equal(got[k], v)


# ---- with the opt-in the trusted files load ------------------------------------------------
def test_trusted_tools_test_gives_the_clean_metrics(run, evil, clean_metrics):
    tool = load_tool('tools/test.py')
    clean = clean_metrics
    trusted = tool.main([run['cfg'], evil['meta'], '--work-dir', str(run['tmp'] / 't1'),
                         '--trust-checkpoint'])
    assert evil['marker'].exists()
    evil['marker'].unlink()
    assert trusted == clean and 'EPE' in clean


def test_trusted_init_model_runs_the_config_text(run, evil):
    from clamp_hand.apis.inference import init_model
    model = init_model(None, evil['cfg'], trust=True)
    assert evil['marker_cfg'].exists()
    evil['marker_cfg'].unlink()
    ref = init_model(None, run['ckpt'])
    for k, v in ref.state_dict().items():
        assert torch.equal(model.state_dict()[k], v)


# ---- publish_model ---------------------------------------------------------------------------
def test_published_checkpoint_is_smaller_hashed_and_predicts_the_same(run, tmp_path,
                                                                     clean_metrics):
    from clamp_hand.apis.inference import inference, init_model
    tool = load_tool('tools/misc/publish_model.py')
    for src in (run['ckpt'], run['best']):
        final = tool.main([src, str(tmp_path / 'hand.pth')])
        sha = hashlib.sha256(open(final, 'rb').read()).hexdigest()
        assert final == str(tmp_path / f'hand-{sha[:8]}.pth')
        assert os.path.getsize(final) < os.path.getsize(src)
        pub = read_checkpoint(final)
        assert set(pub) == {'state_dict', 'meta'}
        assert isinstance(pub['meta']['cfg'], dict) and 'dataset_meta' in pub['meta']
    test = load_tool('tools/test.py')
    pub = tool.main([run['ckpt'], str(tmp_path / 'p' / 'hand.pth')])
    m_pub = test.main([run['cfg'], pub, '--work-dir', str(tmp_path / 'w1')])
    assert m_pub == clean_metrics
    img = next(osp.join(HAND_SAMPLES, 'onehand10k', f) for f in
               sorted(os.listdir(osp.join(HAND_SAMPLES, 'onehand10k'))) if f.endswith('.jpg'))
    a = inference(init_model(None, pub), img)[0]
    b = inference(init_model(None, run['ckpt']), img)[0]
    assert np.array_equal(a['keypoints'], b['keypoints']) and np.array_equal(a['scores'],
                                                                             b['scores'])
