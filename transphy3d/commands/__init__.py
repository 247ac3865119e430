"""Sub-commands of the ``transphy3d`` CLI, one module each."""
