"""Reading and writing checkpoints as data (see ``reader`` and ``config_data``)."""
from .config_data import config_from_checkpoint, config_to_data, parse_literal_config
from .reader import (ALLOWED_GLOBALS, TRUST_HINT, UnsafeCheckpointError, check_checkpoint,
                     load_from_local_safely, read_checkpoint, trusted_checkpoints)

__all__ = ['ALLOWED_GLOBALS', 'TRUST_HINT', 'UnsafeCheckpointError', 'check_checkpoint',
           'config_from_checkpoint',
           'config_to_data', 'load_from_local_safely', 'parse_literal_config', 'read_checkpoint',
           'trusted_checkpoints']
