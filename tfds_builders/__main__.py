"""`python -m tfds_builders check EXPORT` / `diff OLD_DIR NEW_DIR`."""

import sys

from tfds_builders.cli.main import main

if __name__ == '__main__':
  sys.exit(main())
