"""ONNX export: onnxruntime heatmaps match PyTorch within 1e-3 for a 21- and a 42-keypoint
CLAMP (tiny, random weights), at batch sizes other than the export's, with the prompt
embeddings folded in (no text encoder in the graph)."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from conftest import ROOT, TINY_HAND_SAMPLES_CFG, require_hand_samples

HAND42 = osp.join(ROOT, 'configs', '_base_', 'datasets', 'hand42_wrist_first.py')


def tiny_config(num_keypoints):
    """The tiny hand-samples config; for 42 keypoints with the two-hand layout and prompts."""
    cfg = Config.fromfile(TINY_HAND_SAMPLES_CFG)
    if num_keypoints == 42:
        layout = Config.fromfile(HAND42)
        cfg.model.text_encoder.prompts = layout.keypoint_prompts
        data = dict(dataset=dict(metainfo=layout.dataset_info, pipeline=cfg.val_pipeline))
        cfg.train_dataloader = None
        cfg.val_dataloader = cfg.test_dataloader = data
    return cfg


def random_model(num_keypoints):
    from clamp_hand.apis.inference import init_model
    torch.manual_seed(0)
    model = init_model(tiny_config(num_keypoints))
    # random weights; the head's std-0.001 init scaled up makes heatmaps O(1), so that 1e-3 is
    # a real tolerance
    for m in model.head.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.normal_(m.weight, std=0.05)
    return model


def torch_heatmaps(model, crops, flip_test=False):
    """PyTorch eager through the model's own data preprocessor (BGR uint8-range crops)."""
    x = model.data_preprocessor(dict(inputs=list(torch.from_numpy(crops))), False)['inputs']
    with torch.no_grad():
        if flip_test:
            return model.predict_heatmaps(x).numpy()
        return model.forward_heatmaps(x).numpy()


@pytest.mark.parametrize('num_keypoints,exporter', [(21, 'dynamo'), (42, 'dynamo'),
                                                    (21, 'torchscript')])
def test_onnxruntime_heatmaps_match_pytorch(num_keypoints, exporter, tmp_path):
    import onnx

    from clamp_hand.deployment import OnnxHandPoseRunner, export_onnx
    model = random_model(num_keypoints)
    out = str(tmp_path / 'model.onnx')
    used = export_onnx(model, out, batch_size=2, dynamo=exporter == 'dynamo')
    assert used == exporter

    proto = onnx.load(out)
    assert [i.name for i in proto.graph.input] == ['crops']
    vocab = model.text_encoder.token_embedding.num_embeddings
    assert not any(vocab in init.dims for init in proto.graph.initializer), \
        'the text encoder (token embedding) is in the graph'
    assert not any('text_encoder' in n.name for n in proto.graph.node)

    runner = OnnxHandPoseRunner(out)
    rng = np.random.default_rng(num_keypoints)
    for batch in (1, 3):  # export batch was 2
        crops = rng.uniform(0, 255, (batch, 3, 128, 128)).astype(np.float32)
        ref = torch_heatmaps(model, crops)
        got = runner.run(crops)
        assert got.shape == (batch, num_keypoints, 64, 64)
        assert np.abs(ref).max() > 0.1
        assert np.abs(got - ref).max() < 1e-3
    # the runner's flip test (left/right swap for 42 keypoints) equals the model's
    np.testing.assert_allclose(runner.heatmaps(crops), torch_heatmaps(model, crops, True),
                               atol=1e-3, rtol=0)


def test_runner_predicts_the_same_keypoints_as_the_model(tmp_path):
    from clamp_hand.apis.inference import inference
    from clamp_hand.deployment import OnnxHandPoseRunner, export_onnx
    img = osp.join(require_hand_samples(), 'onehand10k', '33.jpg')
    model = random_model(21)
    export_onnx(model, str(tmp_path / 'm.onnx'), dynamo=False)  # (dynamo is tested above)
    runner = OnnxHandPoseRunner(str(tmp_path / 'm.onnx'))
    boxes = [[30, 60, 190, 300], [0, 0, 100, 120]]
    import cv2
    h, w = cv2.imread(img).shape[:2]
    for a, b in zip(inference(model, img, boxes), runner(img, boxes)):
        # with random weights unbiased (DARK) decoding may throw a keypoint far off the image,
        # where 1e-7 heatmap differences move it by a pixel or two: those get 1 px + 0.5 %
        inside = ((a['keypoints'] >= 0) & (a['keypoints'] <= [w, h])).all(1)
        assert inside.sum() >= 10, a['keypoints']
        np.testing.assert_allclose(b['keypoints'][inside], a['keypoints'][inside], atol=5e-2)
        np.testing.assert_allclose(b['keypoints'], a['keypoints'], atol=1.0, rtol=5e-3)
        np.testing.assert_allclose(b['scores'], a['scores'], atol=1e-3)
        assert b['keypoint_names'] == a['keypoint_names']


def test_export_tool_from_a_checkpoint_without_config(tmp_path, capsys):
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    model = random_model(21)
    cfg = tiny_config(21)
    ckpt = str(tmp_path / 'ckpt.pth')
    meta = dict(cfg=cfg.pretty_text,
                dataset_meta=parse_pose_metainfo(cfg.val_dataloader.dataset.datasets[0].metainfo))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), ckpt)
    spec = importlib.util.spec_from_file_location(
        'export_onnx_tool', osp.join(ROOT, 'tools', 'deployment', 'export_onnx.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main(['-', ckpt, '--out', str(tmp_path / 'out' / 'm.onnx'), '--exporter', 'torchscript'])
    assert 'max |onnxruntime - torch|' in capsys.readouterr().out
    assert osp.isfile(tmp_path / 'out' / 'm.onnx')


def test_runner_rejects_an_onnx_file_without_metadata(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from clamp_hand.deployment import OnnxHandPoseRunner
    graph = helper.make_graph([helper.make_node('Identity', ['crops'], ['heatmaps'])], 'g',
                              [helper.make_tensor_value_info('crops', TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info('heatmaps', TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 18)]),
              str(tmp_path / 'bare.onnx'))
    with pytest.raises(ValueError, match='export it with tools/deployment/export_onnx.py'):
        OnnxHandPoseRunner(str(tmp_path / 'bare.onnx'))
