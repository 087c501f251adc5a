"""Finds a built dataset: by registered name, or by the folder it was built in.

The one `load_builder` of the package: `scripts/export_tfod.py`, the TF OD API
writer and the Keras input pipeline all start from it. A built folder is
self-describing (`dataset_info.json` + features), so it is read with
`tfds.builder_from_directory`, whichever code wrote it.
"""

from __future__ import annotations

import pathlib

import tensorflow as tf
import tensorflow_datasets as tfds

from tfds_builders.core.errors import ExportError

def load_builder(dataset: str | None = None, data_dir: str | None = None,
                 dataset_dir: str | None = None) -> tfds.core.DatasetBuilder:
  """The builder of a prepared dataset, by name or by folder.

  Args:
    dataset: `name`, `name/config`, `name:version` or `name/config:version`
      of a dataset built in `data_dir` (this package's datasets are
      registered by importing it, which importing this module does).
    data_dir: where `tfds build` wrote it (None: the TFDS default).
    dataset_dir: a built dataset folder instead of `dataset`: the one holding
      `dataset_info.json` (`.../name/config/version`), or a folder with
      exactly one such folder below it.

  Raises:
    ExportError: neither or both of `dataset` and `dataset_dir`, an unknown
      name, a dataset not built yet, or a folder without a built dataset; the
      message says how to fix it.
  """
  if bool(dataset) == bool(dataset_dir):
    raise ExportError('give either a dataset name or a dataset directory.',
                      fix='Pass --dataset NAME [--data_dir DIR] or'
                      ' --dataset_dir DIR.')
  if dataset_dir:
    folder = _info_dir(dataset_dir)
    try:
      return tfds.builder_from_directory(str(folder))
    except (FileNotFoundError, tf.errors.NotFoundError) as e:
      raise ExportError(f'no built dataset here ({e}).', file=str(folder),
                        fix='Point --dataset_dir at the folder holding'
                        ' dataset_info.json.') from None
  try:
    builder = tfds.builder(dataset, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError as e:
    first_line = str(e).splitlines()[0]  # the rest lists all of TFDS
    raise ExportError(
        first_line, fix=f'Give one of this package\'s datasets'
        f' ({", ".join(_package_datasets())}) or a built folder with'
        ' --dataset_dir.') from None
  if not builder.is_prepared():
    name = dataset.split(':')[0].split('/')[0]
    raise ExportError(
        f'{dataset} is not built in {builder.data_dir}.',
        fix=f'Build it first: `tfds build {name} --imports tfds_builders'
        ' --manual_dir EXPORT_DIR'
        + (f' --data_dir {data_dir}' if data_dir else '') + '`.')
  return builder


def _package_datasets() -> list[str]:
  import tfds_builders  # pylint: disable=g-import-not-at-top  (our parent)
  classes = (getattr(tfds_builders, name) for name in tfds_builders.__all__)
  return [cls.name for cls in classes if isinstance(cls, type)
          and issubclass(cls, tfds.core.DatasetBuilder)]


def _info_dir(path: str) -> pathlib.Path:
  """`path` if it holds dataset_info.json, else the one folder below that
  does."""
  root = pathlib.Path(path).expanduser()
  if (root / 'dataset_info.json').is_file():
    return root
  found = sorted(p.parent for p in root.glob('**/dataset_info.json')
                 if 'incomplete' not in str(p.relative_to(root)))
  if len(found) == 1:
    return found[0]
  if not found:
    raise ExportError('no built dataset (dataset_info.json) here.',
                      file=str(root), fix='Point --dataset_dir at the folder'
                      ' `tfds build` wrote, e.g. DATA_DIR/NAME/CONFIG/VERSION.')
  raise ExportError(f'{len(found)} built datasets here.', file=str(root),
                    fix='Pass one of: ' + ', '.join(map(str, found)) + '.')
