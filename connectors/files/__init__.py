"""File drops: connector and file formats."""
