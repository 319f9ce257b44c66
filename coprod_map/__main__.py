"""``python -m coprod_map``: see ``coprod_map.cli``."""

from coprod_map.cli import main

raise SystemExit(main())
