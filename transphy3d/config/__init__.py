"""Scene configs: distributions for everything sampled, validated on load."""

from transphy3d.config.loader import load_config, load_yaml_file, parse_overrides

__all__ = ["load_config", "load_yaml_file", "parse_overrides"]
