# CLAMP, CLIP ViT-B/16, OneHand10K (21 keypoints, wrist first), 256x256, 4 GPUs x 16, 210 epochs.
# Data layout as mmpose's: data/onehand10k/{annotations,Train,Test}.
_base_ = [
    '../_base_/clamp_vit-b16_4xb16-210e_topdown-256x256.py',
    '../_base_/datasets/hand21_wrist_first.py',
]
model = dict(text_encoder=dict(prompts={{_base_.keypoint_prompts}}))

data_root = 'data/onehand10k/'
dataset = dict(type='OneHand10KDataset', data_root=data_root,
               metainfo={{_base_.dataset_info}}, data_prefix=dict(img=''))
train_dataloader = dict(dataset=dict(**dataset, ann_file='annotations/onehand10k_train.json'))
val_dataloader = dict(dataset=dict(**dataset, ann_file='annotations/onehand10k_test.json'))
test_dataloader = val_dataloader
