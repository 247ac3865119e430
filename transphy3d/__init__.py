"""TransPhy3D: synthetic videos of transparent and reflective objects, and a DKT trainer."""

__version__ = "0.1.0"
