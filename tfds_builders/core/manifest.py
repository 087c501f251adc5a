"""The source manifest: which export a dataset version was built from.

Stored in the dataset's `metadata.json` (as `source_manifest`) and in the
build report: the sha256 of every annotation file and one digest over the
sha256 of every image that went in. A history file one level above the
version folders remembers the digest each version was built from, so
rebuilding a version from a different export warns that it needs a bump.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Iterable

from absl import logging

HISTORY_FILENAME = 'source_manifests.json'


def file_sha256(path: pathlib.Path) -> str:
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(1 << 20), b''):
      digest.update(block)
  return digest.hexdigest()


def build_manifest(root: pathlib.Path, source_files: Iterable[pathlib.Path],
                   image_digests: Iterable[tuple[str, str]],
                   known: dict[str, str] | None = None) -> dict:
  """`image_digests`: (image id, sha256 of the stored image bytes) pairs;
  `known`: sha256 of files already read, by name relative to `root`."""
  known = known or {}
  files = {}
  for path in source_files:
    name = pathlib.Path(path).relative_to(root).as_posix()
    files[name] = known.get(name) or file_sha256(pathlib.Path(path))
  lines = sorted(f'{image_id}\t{sha}' for image_id, sha in image_digests)
  images = hashlib.sha256('\n'.join(lines).encode('utf-8')).hexdigest()
  export = hashlib.sha256(json.dumps(
      [sorted(files.items()), images]).encode('utf-8')).hexdigest()
  return {'annotation_files': dict(sorted(files.items())),
          'images': len(lines), 'images_sha256': images,
          'export_sha256': export}


def check_and_record(config_dir: pathlib.Path, version: str,
                     manifest: dict) -> str | None:
  """Warns (and returns the warning) when `version` was built from another
  export before; then records this build's digest."""
  path = config_dir / HISTORY_FILENAME
  history = json.loads(path.read_text()) if path.is_file() else {}
  previous = history.get(version)
  warning = None
  if previous and previous != manifest['export_sha256']:
    warning = (
        f'version {version} was built before from a different export'
        f' (sha256 {previous[:12]}..., now {manifest["export_sha256"][:12]}'
        '...). Datasets with the same version must hold the same data: bump'
        ' VERSION (and add RELEASE_NOTES) in the builder before sharing this'
        ' build.')
    logging.warning(warning)
  history[version] = manifest['export_sha256']
  config_dir.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(history, indent=2, sort_keys=True) + '\n')
  return warning
