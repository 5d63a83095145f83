"""One module per schema revision, named <revision>_<slug>.py; applied in order."""
