"""Extraction: actors (this stage), then events and commitments; dictionaries live in `data/`."""
