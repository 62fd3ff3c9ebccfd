# CLAMP, CLIP ViT-B/16 trained on two two-hand datasets at once: AssemblyHands (egocentric, both
# hands per instance) and InterHand2.6M, 42 keypoints (right 21 then left 21, AssemblyHands'
# order), 256x256, 4 GPUs x 16, 210 epochs, on mmpose's CombinedDataset. Each dataset keeps its
# own format; the KeypointConverter mapping into the AssemblyHands two-hand layout is computed
# from the keypoint names (clamp_hand.datasets.hand_layouts.mix_part). Data as the two
# datasets' own configs expect (data/README.md). Validation: PCK@0.2, AUC, EPE over the mix and
# per dataset ('assemblyhands_twohands/PCK', 'interhand2d_twohands/PCK').
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/assemblyhands_twohands.py',
]
import importlib  # noqa: E402 (after _base_: mmengine reads this as a plain config)

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
model = dict(text_encoder=dict(prompts=_base_.keypoint_prompts))


def _two_hand_mix(split):
    test = split != 'train'
    part = dict(target_info=_base_.dataset_info, test_mode=test)
    return [
        _layouts.mix_part(
            'assemblyhands_twohands', **part, type='HandKeypointDataset',
            data_root='data/assemblyhands/', data_prefix=dict(img='images/'),
            ann_file=f'annotations/assemblyhands_{split}_ego_data_v1-1_twohands.json'),
        _layouts.mix_part(
            'interhand2d_twohands', **part, type='InterHand2DTwoHandsDataset',
            data_root='data/interhand2.6m/', data_prefix=dict(img=f'images/{split}/'),
            ann_file=f'annotations/all/InterHand2.6M_{split}_data.json',
            camera_param_file=f'annotations/all/InterHand2.6M_{split}_camera.json',
            joint_file=f'annotations/all/InterHand2.6M_{split}_joint_3d.json'),
    ]


mix_metainfo = dict(_base_.dataset_info, dataset_name='assemblyhands_interhand2d')
train_dataloader = dict(dataset=dict(
    _delete_=True, type='CombinedDataset', metainfo=mix_metainfo,
    datasets=_two_hand_mix('train'), pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='CombinedDataset', metainfo=mix_metainfo,
    datasets=_two_hand_mix('val'), pipeline=_base_.val_pipeline, test_mode=True))
test_dataloader = dict(dataset=dict(
    _delete_=True, type='CombinedDataset', metainfo=mix_metainfo,
    datasets=_two_hand_mix('test'), pipeline=_base_.val_pipeline, test_mode=True))
val_evaluator = [
    *_base_.val_evaluator[1:],  # PCK@0.2, AUC, EPE over the whole mix
    *[dict(type='PerDatasetMetric', dataset_name=d['metainfo']['dataset_name'],
           metrics=_base_.val_evaluator[1:]) for d in _two_hand_mix('val')],
]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))
