"""Model side of CLAMP-Hand (registered in the ``clamp_hand`` scope)."""
from .backbones import *  # noqa: F401,F403
from .estimators import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .prompting import *  # noqa: F401,F403
