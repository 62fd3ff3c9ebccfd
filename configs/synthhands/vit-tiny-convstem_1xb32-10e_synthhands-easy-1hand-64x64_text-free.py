# Ablation of the quickstart: the same tiny ViT backbone, deconv head, data, schedule and
# evaluation as clamp_vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64.py with the text
# alignment removed (no prompts, no image-text score maps, no score-map or contrastive loss).
import importlib

_base_ = ['./clamp_vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64.py']
_text_free = importlib.import_module('clamp_hand.models.text_free')
model = dict(_delete_=True, **_text_free.text_free_model(_base_.model))  # CLAMP's image side
