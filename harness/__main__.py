"""``python -m harness``: the command-line interface."""

import sys

from harness.cli import main

sys.exit(main())
