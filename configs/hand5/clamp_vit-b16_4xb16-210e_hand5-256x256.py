# CLAMP, CLIP ViT-B/16 trained on five public hand datasets at once ("Hand5", as mmpose's
# RTMPose-m Hand5): COCO-WholeBody-Hand, OneHand10K, FreiHAND, RHD and Halpe hands, 256x256,
# 4 GPUs x 16, 210 epochs, on mmpose's CombinedDataset. Each dataset keeps its own annotation
# format and keypoint order; a KeypointConverter maps it into the 21-keypoint wrist-first layout
# (hand21_wrist_first) with a mapping computed from the keypoint names
# (clamp_hand.datasets.keypoint_names.name_mapping), never typed. Data: each dataset laid out as
# its own config expects (data/README.md). Validation: the five validation sets together,
# PCK@0.2, AUC and EPE (mmpose's Hand5 metrics); COCO AP is left out because the ground truth a
# CocoMetric reads stays in each dataset's own order.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/hand21_wrist_first.py',
]
import importlib  # noqa: E402 (after _base_: mmengine reads this as a plain config)

_layouts = importlib.import_module('clamp_hand.datasets.hand_layouts')
_names = importlib.import_module('clamp_hand.datasets.keypoint_names')
model = dict(text_encoder=dict(prompts=_base_.keypoint_prompts))
target_names = _names.layout_names(_base_.dataset_info)


def _part(layout, **dataset):
    """One dataset of the mix in its own layout, converted to the target layout by name."""
    info = _layouts.dataset_layout(layout)
    mapping = _names.name_mapping(_names.layout_names(info), target_names)
    return dict(**dataset, metainfo=info, pipeline=[
        dict(type='KeypointConverter', num_keypoints=len(target_names), mapping=mapping)])


def _hand5(split):
    train = split == 'train'
    return [
        _part('coco_wholebody_hand', type='HandKeypointDataset', data_root='data/coco/',
              ann_file=f'annotations/coco_wholebody_{split}_v1.0_hands.json',
              data_prefix=dict(img=f'{split}2017/'), test_mode=not train),
        _part('onehand10k', type='OneHand10KDataset', data_root='data/onehand10k/',
              ann_file=f'annotations/onehand10k_{"train" if train else "test"}.json',
              data_prefix=dict(img=''), test_mode=not train),
        _part('freihand', type='FreiHandDataset', data_root='data/freihand/',
              ann_file=f'annotations/freihand_{split}.json', data_prefix=dict(img=''),
              test_mode=not train),
        _part('rhd2d', type='Rhd2DDataset', data_root='data/rhd/',
              ann_file=f'annotations/rhd_{"train" if train else "test"}.json',
              data_prefix=dict(img=''), test_mode=not train),
        _part('halpe_hand', type='HalpeHandDataset', data_root='data/halpe/',
              ann_file=f'annotations/halpe_{split}_v1.json',
              data_prefix=dict(img='hico_20160224_det/images/train2015/' if train
                               else 'val2017/'), test_mode=not train),
    ]


hand5_metainfo = dict(_base_.dataset_info, dataset_name='hand5')
train_dataloader = dict(dataset=dict(
    _delete_=True, type='CombinedDataset', metainfo=hand5_metainfo, datasets=_hand5('train'),
    pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='CombinedDataset', metainfo=hand5_metainfo, datasets=_hand5('val'),
    pipeline=_base_.val_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = _base_.val_evaluator[1:]  # PCK@0.2, AUC, EPE
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))
