from .clip_vit import CLIPViT, resize_positional_embedding

__all__ = ['CLIPViT', 'resize_positional_embedding']
