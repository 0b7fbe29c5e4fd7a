"""``python3 -m fedhub_client``: the participant's command line (cli.py)."""

import sys

from .cli import main

sys.exit(main())
