"""Pretrained CLIP weights in every format users have (OpenAI TorchScript, open_clip, Hugging
Face incl. sentence-transformers) load into this project's towers and reproduce the reference
implementation's image and text embeddings; positional-embedding resizing; error messages.

No weights can be downloaded here, so each test saves a small random CLIP in the format itself.
"""
import json
import os.path as osp

import open_clip
import pytest
import torch
import torch.nn.functional as F
from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
from safetensors.torch import save_file
from torch import nn

from clamp_hand.apis import load_config
from clamp_hand.models.backbones import CLIPViT
from clamp_hand.models.clip_weights import load_clip_weights
from clamp_hand.models.prompting import KeypointPromptEncoder, tokenize
from clamp_hand.registry import MODELS
from conftest import ROOT, TINY_HAND_SAMPLES_CFG

# One tiny CLIP shape for every format: ViT 2x64, 16 px patches at 32 px; text 2x32.
IMAGE, PATCH, V_WIDTH, V_HEADS, LAYERS, T_WIDTH, T_HEADS, EMBED = 32, 16, 64, 2, 2, 32, 2, 32
PROMPTS = ['right thumb tip', 'left wrist', 'index finger base']
TOL = 1e-4


class Towers(nn.Module):
    """This project's image backbone and prompt encoder, as an estimator holds them."""

    def __init__(self, image_size=IMAGE, quick_gelu=True):
        super().__init__()
        self.backbone = CLIPViT(image_size=image_size, patch_size=PATCH, width=V_WIDTH,
                                layers=LAYERS, heads=V_HEADS, output_dim=EMBED,
                                out_indices=(0, 1), quick_gelu=quick_gelu)
        self.text_encoder = KeypointPromptEncoder(PROMPTS, num_contexts=4, width=T_WIDTH,
                                                  layers=LAYERS, heads=T_HEADS, embed_dim=EMBED,
                                                  quick_gelu=quick_gelu)


def perturb_(model: nn.Module, seed: int) -> nn.Module:
    """Random offsets on every tensor, so no weight keeps its init value (LayerNorm 1/0,
    zero biases) and a wrongly mapped tensor shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return model.eval()


def open_clip_model(seed=0, image_size=IMAGE, v_width=V_WIDTH, v_layers=LAYERS) -> CLIP:
    torch.manual_seed(seed)
    model = CLIP(embed_dim=EMBED, quick_gelu=True,
                 vision_cfg=CLIPVisionCfg(layers=v_layers, width=v_width, head_width=32,
                                          patch_size=PATCH, image_size=image_size),
                 text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=T_WIDTH,
                                      heads=T_HEADS, layers=LAYERS))
    return perturb_(model, seed)


def hf_model(seed=0, hidden_act='quick_gelu'):
    from transformers import CLIPConfig, CLIPModel
    torch.manual_seed(seed)
    cfg = CLIPConfig(
        text_config=dict(vocab_size=49408, hidden_size=T_WIDTH, intermediate_size=4 * T_WIDTH,
                         num_hidden_layers=LAYERS, num_attention_heads=T_HEADS,
                         max_position_embeddings=77, hidden_act=hidden_act),
        vision_config=dict(hidden_size=V_WIDTH, intermediate_size=4 * V_WIDTH,
                           num_hidden_layers=LAYERS, num_attention_heads=V_HEADS,
                           image_size=IMAGE, patch_size=PATCH, hidden_act=hidden_act),
        projection_dim=EMBED)
    return perturb_(CLIPModel(cfg), seed)


def inputs(towers: Towers):
    """Images ``(2,3,32,32)``; prompt token ids at the project's length and padded to 77."""
    images = torch.randn(2, 3, IMAGE, IMAGE, generator=torch.Generator().manual_seed(1))
    tokens = tokenize(PROMPTS, towers.text_encoder.seq_length)
    return images, tokens, F.pad(tokens, (0, 77 - tokens.shape[1]))


@torch.no_grad()
def check_against_reference(path, encode_image, encode_text):
    """Load ``path`` into fresh towers; both embeddings match the reference within TOL and
    every tower tensor except the learned contexts came from the file."""
    towers = Towers().eval()
    report = load_clip_weights(towers, path)
    images, tokens, tokens77 = inputs(towers)
    _, cls, _ = towers.backbone(images)
    assert (cls - encode_image(images)).abs().max() < TOL
    text = towers.text_encoder.encode_tokens(tokens)
    assert (text - encode_text(tokens77)).abs().max() < TOL
    expected = [k for k in towers.state_dict() if k != 'text_encoder.contexts']
    assert sorted(report.loaded) == sorted(expected)
    assert report.missing == ['text_encoder.contexts']
    assert report.truncated == {'text_encoder.positional_embedding':
                                ((77, T_WIDTH), (towers.text_encoder.seq_length, T_WIDTH))}
    assert not report.resized
    return report


# ---- the three formats --------------------------------------------------------------------
def save_open_clip(model: CLIP, tmp_path, variant: str) -> str:
    sd = model.state_dict()
    if variant == 'plain.bin':
        path = tmp_path / 'open_clip_plain.bin'
        torch.save(sd, path)
    elif variant == 'wrapped.pt':  # an open_clip training checkpoint after DDP
        path = tmp_path / 'epoch_3.pt'
        torch.save(dict(epoch=3, name='tiny', state_dict={f'module.{k}': v for k, v in sd.items()}),
                   path)
    elif variant == 'safetensors':
        path = tmp_path / 'tiny.safetensors'
        save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    else:  # an open_clip Hugging Face hub folder
        path = tmp_path / 'hub'
        path.mkdir()
        save_file({k: v.contiguous() for k, v in sd.items()},
                  str(path / 'open_clip_model.safetensors'))
        (path / 'open_clip_config.json').write_text(json.dumps(dict(model_cfg=dict(quick_gelu=True))))
    return str(path)


@pytest.mark.parametrize('variant', ['plain.bin', 'wrapped.pt', 'safetensors', 'hub-folder'])
def test_open_clip_checkpoint(tmp_path, variant):
    ref = open_clip_model()
    report = check_against_reference(save_open_clip(ref, tmp_path, variant), ref.encode_image,
                                     ref.encode_text)
    assert report.format == 'open_clip'
    # Only the hub folder's open_clip_config.json records the activation; else a note says so.
    assert bool(report.notes) == (variant != 'hub-folder')
    assert report.skipped == {'logit_scale': 'not part of the image or text tower'}


@pytest.mark.filterwarnings('ignore::FutureWarning', 'ignore::torch.jit.TracerWarning')
def test_openai_torchscript(tmp_path):
    """A TorchScript archive with OpenAI's names and extra entries, in fp16 like OpenAI's."""
    ref = open_clip_model(seed=1)
    for name, value in (('input_resolution', IMAGE), ('context_length', 77), ('vocab_size', 49408)):
        if hasattr(ref, name):
            delattr(ref, name)
        ref.register_buffer(name, torch.tensor(value))
    images, _, tokens77 = inputs(Towers())
    with torch.no_grad():
        scripted = torch.jit.trace(ref, (images, tokens77), check_trace=False).half()
    path = str(tmp_path / 'ViT-B-16.pt')  # .pt like a torch.save file: told apart by content
    torch.jit.save(scripted, path)
    ref.half().float()  # the reference sees the same fp16-rounded weights
    report = check_against_reference(path, ref.encode_image, ref.encode_text)
    assert report.format == 'OpenAI TorchScript' and report.file_dtypes == ['float16']
    assert {'logit_scale', 'input_resolution', 'context_length', 'vocab_size'} <= set(report.skipped)


def test_huggingface_folders(tmp_path):
    """``save_pretrained`` folder (safetensors) and a sentence-transformers folder with the same
    model as ``0_CLIPModel/pytorch_model.bin``."""
    ref = hf_model()
    hf_dir, st_dir = tmp_path / 'clip-vit-tiny', tmp_path / 'clip-ViT-tiny-st'
    ref.save_pretrained(hf_dir)
    (st_dir / '0_CLIPModel').mkdir(parents=True)
    (st_dir / 'modules.json').write_text(json.dumps(
        [dict(idx=0, name='0', path='0_CLIPModel', type='sentence_transformers.models.CLIPModel')]))
    (st_dir / '0_CLIPModel' / 'config.json').write_text((hf_dir / 'config.json').read_text())
    old_style = dict(ref.state_dict())  # older transformers also saved these buffers
    old_style['text_model.embeddings.position_ids'] = torch.arange(77)[None]
    torch.save(old_style, st_dir / '0_CLIPModel' / 'pytorch_model.bin')
    encode_image = lambda x: ref.get_image_features(pixel_values=x).pooler_output  # noqa: E731
    encode_text = lambda t: ref.get_text_features(input_ids=t).pooler_output  # noqa: E731
    for folder, file in ((hf_dir, 'model.safetensors'), (st_dir, 'pytorch_model.bin')):
        report = check_against_reference(str(folder), encode_image, encode_text)
        assert report.format == 'Hugging Face' and report.file.endswith(file)
    assert 'text_model.embeddings.position_ids' in report.skipped


# ---- positional embedding resize ----------------------------------------------------------
def test_224px_weights_into_256px_config(tmp_path):
    ref = open_clip_model(image_size=224)
    path = save_open_clip(ref, tmp_path, 'plain.bin')
    towers = Towers(image_size=256)
    report = load_clip_weights(towers, path)
    src = ref.visual.positional_embedding.detach()  # (1 + 14*14, W)
    got = towers.backbone.positional_embedding.detach()  # (1 + 16*16, W)
    grid = src[1:].reshape(14, 14, V_WIDTH).permute(2, 0, 1)[None]
    want = F.interpolate(grid, size=(16, 16), mode='bilinear', align_corners=False)
    assert torch.equal(got[0], src[0])  # class position untouched
    assert torch.allclose(got[1:], want[0].permute(1, 2, 0).reshape(256, V_WIDTH), atol=1e-6)
    assert report.resized == {'backbone.positional_embedding': ((197, V_WIDTH), (257, V_WIDTH))}
    assert torch.equal(towers.backbone.conv1.weight, ref.visual.conv1.weight)


# ---- errors -------------------------------------------------------------------------------
def test_missing_file_says_where_and_what(tmp_path):
    path = tmp_path / 'pretrained' / 'ViT-B-16.pt'
    with pytest.raises(FileNotFoundError) as e:
        load_clip_weights(Towers(), str(path))
    msg = str(e.value)
    assert str(path) in msg
    for fmt in ('TorchScript', 'open_clip', 'Hugging Face', '0_CLIPModel', 'pretrained/README.md'):
        assert fmt in msg


def test_other_architecture_names_first_mismatch(tmp_path):
    """Weights of a wider ViT (like ViT-L into a ViT-B config): nothing is loaded."""
    path = save_open_clip(open_clip_model(v_width=96), tmp_path, 'plain.bin')
    towers = Towers()
    before = towers.backbone.conv1.weight.clone()
    with pytest.raises(ValueError) as e:
        load_clip_weights(towers, path)
    assert ('first mismatched tensor visual.class_embedding (96,) in the file vs '
            'backbone.class_embedding (64,) in the model') in str(e.value)
    assert torch.equal(towers.backbone.conv1.weight, before)


def test_deeper_file_is_refused(tmp_path):
    path = save_open_clip(open_clip_model(v_layers=3), tmp_path, 'plain.bin')
    with pytest.raises(ValueError, match=r'tower tensor\(s\) the model lacks, first: '
                                         r'visual\.transformer\.resblocks\.2\.'):
        load_clip_weights(Towers(), path)


def test_unfilled_tensors_are_errors_unless_allowed(tmp_path):
    sd = {k: v for k, v in open_clip_model().state_dict().items() if k.startswith('visual.')}
    path = str(tmp_path / 'image_only.pt')
    torch.save(sd, path)
    towers = Towers()
    text_keys = [f'text_encoder.{k}' for k in towers.text_encoder.state_dict() if k != 'contexts']
    with pytest.raises(ValueError) as e:
        load_clip_weights(towers, path)
    assert f'leaves {len(text_keys)} model tensor(s) unfilled, first: {text_keys[0]}' in str(e.value)
    assert 'pretrained_allow_missing' in str(e.value)
    report = load_clip_weights(Towers(), path, allow_missing=['text_encoder.*'])
    assert all(k.startswith('backbone.') for k in report.loaded)
    assert 'text_encoder.ln_final.weight' in report.missing


def test_activation_mismatch(tmp_path):
    hf_model(hidden_act='gelu').save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r'visual tower was trained with gelu but '
                                         r'model\.backbone uses quick_gelu; set '
                                         r'model\.backbone\.quick_gelu=False'):
        load_clip_weights(Towers(), str(tmp_path))
    load_clip_weights(Towers(quick_gelu=False), str(tmp_path))


def test_not_a_clip_file(tmp_path):
    path = str(tmp_path / 'resnet.pth')
    torch.save({'conv1.weight': torch.zeros(8, 3, 7, 7)}, path)
    with pytest.raises(ValueError, match='holds no CLIP image or text tower'):
        load_clip_weights(Towers(), path)


# ---- through the config -------------------------------------------------------------------
def test_estimator_init_weights_from_config(tmp_path):
    """``model.pretrained`` + ``model.pretrained_allow_missing`` reach the loader through
    ``init_weights`` of the CLAMP estimator built from the tiny config."""
    cfg = load_config(TINY_HAND_SAMPLES_CFG)
    b = cfg.model.backbone
    torch.manual_seed(0)
    visual = CLIP(embed_dim=b.output_dim, quick_gelu=True,
                  vision_cfg=CLIPVisionCfg(layers=b.layers, width=b.width, head_width=b.width // b.heads,
                                           patch_size=b.patch_size, image_size=224),
                  text_cfg=CLIPTextCfg(width=32, heads=2, layers=1)).visual
    path = str(tmp_path / 'image_tower.safetensors')
    save_file({f'visual.{k}': v.contiguous() for k, v in visual.state_dict().items()}, path)
    cfg.model.pretrained = path
    cfg.model.pretrained_allow_missing = ['text_encoder.*']
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert torch.equal(model.backbone.conv1.weight, visual.conv1.weight)
    assert torch.equal(model.backbone.proj, visual.proj)
    assert model.backbone.positional_embedding.shape[0] == 1 + (128 // b.patch_size) ** 2


def test_vit_b16_config(tmp_path):
    """Full size: an OpenAI-shaped ViT-B/16 (224 px, 77 text positions) into the AssemblyHands
    ViT-B/16 config (256 px, 21 prompts); every tower tensor filled, text embeddings equal."""
    cfg = load_config(osp.join(ROOT, 'configs/assemblyhands/'
                               'clamp_vit-b16_4xb16-210e_assemblyhands-1hand-256x256.py'))
    cfg.model.pretrained = None
    model = MODELS.build(cfg.model).eval()
    torch.manual_seed(0)
    ref = open_clip.create_model('ViT-B-16', pretrained=None, force_quick_gelu=True).eval()
    path = str(tmp_path / 'vit-b-16.safetensors')
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, path)
    report = load_clip_weights(model, path)
    seq = model.text_encoder.seq_length
    assert report.resized == {'backbone.positional_embedding': ((197, 768), (257, 768))}
    assert report.truncated == {'text_encoder.positional_embedding': ((77, 512), (seq, 512))}
    assert report.missing == ['text_encoder.contexts']
    tokens = tokenize(model.text_encoder.prompts, seq)
    with torch.no_grad():
        diff = model.text_encoder.encode_tokens(tokens) - ref.encode_text(F.pad(tokens, (0, 77 - seq)))
    assert diff.abs().max() < TOL
