"""`python -m transphy3d ...` is the same as the `transphy3d` command."""

import sys

from transphy3d.cli import main

sys.exit(main())
