"""The marketplace core: models and services. Never imports flask (see tests/unit/test_layout.py)."""
