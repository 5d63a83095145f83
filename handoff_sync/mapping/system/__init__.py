"""System maps (mappings/<system>.yaml): file model, compile, convert, transforms, and the
describe check."""
