"""The marketplace core: models and services. Never imports flask (tests/unit/test_layout.py)."""
