# CLAMP, CLIP ViT-B/16 trained on five public hand datasets at once ("Hand5", as mmpose's
# RTMPose-m Hand5): COCO-WholeBody-Hand, OneHand10K, FreiHAND, RHD and Halpe hands, 256x256,
# 4 GPUs x 16, 210 epochs, on mmpose's CombinedDataset. Each dataset keeps its own annotation
# format and keypoint order; a KeypointConverter maps it into the 21-keypoint wrist-first layout
# (hand21_wrist_first) with a mapping computed from the keypoint names
# (clamp_hand.datasets.hand_layouts.mix_part), never typed. Data: each dataset laid out as
# its own config expects (data/README.md). Validation: PCK@0.2, AUC and EPE (mmpose's Hand5
# metrics) over the five validation sets together and per dataset (PerDatasetMetric:
# 'rhd2d/PCK', ..). COCO AP is left out: the ground truth a CocoMetric reads stays in each
# dataset's own keypoint order.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/hand21_wrist_first.py',
]
import importlib  # noqa: E402 (after _base_: mmengine reads this as a plain config)

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
model = dict(text_encoder=dict(prompts=_base_.keypoint_prompts))


def _hand5(split):
    """The five datasets of a split, each converted by name into the hand21 layout."""
    test = split != 'train'
    old = 'test' if test else 'train'  # OneHand10K and RHD have no separate val split
    part = dict(target_info=_base_.dataset_info, test_mode=test)
    return [
        _layouts.mix_part(
            'coco_wholebody_hand', **part, type='HandKeypointDataset', data_root='data/coco/',
            ann_file=f'annotations/coco_wholebody_{split}_v1.0_hands.json',
            data_prefix=dict(img=f'{split}2017/')),
        _layouts.mix_part(
            'onehand10k', **part, type='OneHand10KDataset', data_root='data/onehand10k/',
            ann_file=f'annotations/onehand10k_{old}.json', data_prefix=dict(img='')),
        _layouts.mix_part(
            'freihand', **part, type='FreiHandDataset', data_root='data/freihand/',
            ann_file=f'annotations/freihand_{split}.json', data_prefix=dict(img='')),
        _layouts.mix_part(
            'rhd2d', **part, type='Rhd2DDataset', data_root='data/rhd/',
            ann_file=f'annotations/rhd_{old}.json', data_prefix=dict(img='')),
        _layouts.mix_part(
            'halpe_hand', **part, type='HalpeHandDataset', data_root='data/halpe/',
            ann_file=f'annotations/halpe_{split}_v1.json',
            data_prefix=dict(img='val2017/' if test else 'hico_20160224_det/images/train2015/')),
    ]


mix_metainfo = dict(_base_.dataset_info, dataset_name='hand5')
train_dataloader = dict(dataset=dict(
    _delete_=True, type='CombinedDataset', metainfo=mix_metainfo, datasets=_hand5('train'),
    pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='CombinedDataset', metainfo=mix_metainfo, datasets=_hand5('val'),
    pipeline=_base_.val_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = [
    *_base_.val_evaluator[1:],  # PCK@0.2, AUC, EPE over the whole mix
    *[dict(type='PerDatasetMetric', dataset_name=d['metainfo']['dataset_name'],
           metrics=_base_.val_evaluator[1:]) for d in _hand5('val')],
]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))
