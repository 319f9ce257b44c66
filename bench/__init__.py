"""The coprod_map benchmark suite: ``python -m bench.run [--quick] [--json PATH]``."""
