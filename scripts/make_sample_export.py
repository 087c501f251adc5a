r"""Writes a synthetic Labelbox export (export v2 NDJSON) of Model 3 cars.

  python scripts/make_sample_export.py --output sample_export [--num_images
      300] [--seed 0]

The export the demo builds `labelbox_cars` from, offline; see
`tfds_builders/labelbox/sample.py` for what is in it.
"""

import argparse
import pathlib
import time

from tfds_builders.labelbox import sample


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--output', type=pathlib.Path, default='sample_export')
  parser.add_argument('--num_images', type=int, default=300)
  parser.add_argument('--seed', type=int, default=0)
  args = parser.parse_args()
  start = time.perf_counter()
  counts = sample.write_export(args.output, args.num_images, args.seed)
  print(f"Wrote {counts['images']} images with {counts['cars']} cars to"
        f' {args.output}/export.ndjson in {time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
  main()
