"""CLAMP-Hand."""
