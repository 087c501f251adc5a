"""`python -m tfds_builders check EXPORT` / `diff OLD_DIR NEW_DIR`."""

import os
import sys

from tfds_builders.cli.main import main

if __name__ == '__main__':
  try:
    code = main()
    # Both commands have printed and written everything by now. Tearing
    # down the interpreter (with TensorFlow loaded, when it was) takes about
    # a second, longer than checking a few hundred images: skip it.
    sys.stdout.flush()
    sys.stderr.flush()
  except BrokenPipeError:  # `... | head` closed the pipe: not an error here
    code = 0
  os._exit(code)
