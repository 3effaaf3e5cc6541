"""``python -m threadline.cli``: the same as the ``threadline`` console script."""

import sys

from threadline.cli.main import main

sys.exit(main())
