"""Checkpoint converters from other implementations onto this project's models."""
from .clamp_original import (ConversionReport, check_fits_model, convert_original_checkpoint,
                             convert_original_state_dict, is_original_state_dict,
                             load_original_checkpoint, original_class_names)

__all__ = ['ConversionReport', 'check_fits_model', 'convert_original_checkpoint',
           'convert_original_state_dict', 'is_original_state_dict', 'load_original_checkpoint',
           'original_class_names']
