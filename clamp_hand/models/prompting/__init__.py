from .context_decoder import ContextDecoder
from .keypoint_prompt_encoder import KeypointPromptEncoder, tokenize
from .prompt_relation_encoder import PromptRelationEncoder

__all__ = ['ContextDecoder', 'KeypointPromptEncoder', 'PromptRelationEncoder', 'tokenize']
