"""`python -m tfds_builders`: commands that work on exports and built
datasets without building one (`check`, `diff`); see `main.py`."""
