"""Tiny exports written in a test, built in-process, judged by the report."""

from __future__ import annotations

import io
import pathlib

import numpy as np
from PIL import Image

from tests.builds import build, examples, read_report


def image_bytes(mode: str = 'RGB', size=(40, 30), fmt: str = 'JPEG',
                **save) -> bytes:
  rng = np.random.default_rng(0)
  if mode == 'I;16':
    im = Image.fromarray(rng.integers(0, 65535, size[::-1], dtype=np.uint16))
  else:
    im = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3),
                                      dtype=np.uint8)).convert(mode)
  buffer = io.BytesIO()
  im.save(buffer, format=fmt, **save)
  return buffer.getvalue()


def box_xml(filename: str, boxes=(('cat', (2, 3, 20, 25)),), size=(40, 30),
            extra: str = '') -> str:
  objects = ''.join(
      f'<object><name>{name}</name><bndbox><xmin>{b[0]}</xmin>'
      f'<ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox>'
      '</object>' for name, b in boxes)
  return (f'<annotation><filename>{filename}</filename><size><width>{size[0]}'
          f'</width><height>{size[1]}</height></size>{objects}{extra}'
          '</annotation>')


def voc_export(root: pathlib.Path, files: dict[str, str | bytes]
               ) -> pathlib.Path:
  """Writes `files` (relative path -> content) under `root/export`."""
  export = root / 'export'
  for name, content in files.items():
    path = export / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
      path.write_text(content, encoding='utf-8')
    else:
      path.write_bytes(content)
  return export


def good_voc(root: pathlib.Path, **overrides) -> pathlib.Path:
  """A two-image labelImg export with `overrides` (path -> content) for a."""
  files = {'images/a.jpg': image_bytes(), 'annotations/a.xml': box_xml('a.jpg'),
           'images/b.jpg': image_bytes(), 'annotations/b.xml': box_xml('b.jpg')}
  files.update(overrides)
  return voc_export(root, {k: v for k, v in files.items() if v is not None})


def build_report(name: str, export: pathlib.Path, tmp_path: pathlib.Path):
  """Builds and returns (report, builder)."""
  builder = build(name, export, tmp_path / 'data')
  report = read_report(builder)
  assert report['nothing_lost'], report
  return report, builder


def only_issue(report: dict) -> dict:
  assert len(report['issues']) == 1, report['issues']
  return report['issues'][0]


def all_examples(builder) -> dict[str, dict]:
  """image id -> example, over all splits."""
  return {ex['image/id'].decode(): ex for split in builder.info.splits
          for ex in examples(builder, split)}
