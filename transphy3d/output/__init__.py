"""The on-disk data contract: names and layouts, writers, the reader, the validator and the oracle."""
