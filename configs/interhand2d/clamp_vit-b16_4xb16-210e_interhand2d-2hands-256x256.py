# CLAMP, CLIP ViT-B/16, InterHand2.6M (both hands per instance, 42 keypoints, InterHand order:
# right 21 then left 21), 256x256 input, 4 GPUs x 16 images, 210 epochs.
# Data: the native InterHand2.6M release laid out as mmpose documents it (data/README.md):
#   data/interhand2.6m/annotations/all/InterHand2.6M_{train,val,test}_{data,camera,joint_3d}.json
#   data/interhand2.6m/images/{train,val,test}/Capture*/...
# InterHand2DTwoHandsDataset (mmpose's InterHand2DDoubleDataset + COCO ground truth) projects
# the 3D joints with the camera files; no conversion step is needed.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/interhand2d_twohands.py',
]
model = dict(text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/interhand2.6m/'


def _split(split):
    return dict(
        type='InterHand2DTwoHandsDataset', data_root=data_root,
        metainfo={{_base_.dataset_info}},
        ann_file=f'annotations/all/InterHand2.6M_{split}_data.json',
        camera_param_file=f'annotations/all/InterHand2.6M_{split}_camera.json',
        joint_file=f'annotations/all/InterHand2.6M_{split}_joint_3d.json',
        data_prefix=dict(img=f'images/{split}/'))


train_dataloader = dict(dataset=_split('train'))
val_dataloader = dict(dataset=_split('val'))
test_dataloader = dict(dataset=_split('test'))
