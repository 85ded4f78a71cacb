"""geowire: geopolitical news in, actors, events and commitments out."""

__version__ = "0.1.0"
