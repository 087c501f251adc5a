"""tfds_builders/core/loading.py: the one `load_builder`, by name or folder."""

import pytest

from tfds_builders.core import loading
from tfds_builders.core.errors import ExportError
from tfds_builders.tfod import writer


def test_by_name_by_folder_and_by_parent_folder(builder, data_dir, built_dir,
                                               version):
  assert builder.info.full_name == f'voc_export/default/{version}'
  assert builder.is_prepared()
  for folder in (built_dir, data_dir):  # data_dir holds exactly one build
    loaded = loading.load_builder(dataset_dir=str(folder))
    assert loaded.info.full_name == f'voc_export/default/{version}'
    assert loaded.info.features['objects']['label'].names == ['cat', 'dog']


def test_one_definition_for_the_whole_package():
  assert writer.load_builder is loading.load_builder


@pytest.mark.parametrize('kwargs', [{}, {'dataset': 'voc_export',
                                         'dataset_dir': '/tmp'}])
def test_needs_exactly_one_of_name_and_folder(kwargs):
  with pytest.raises(ExportError, match='either a dataset name or a dataset'
                     ' directory.*--dataset_dir'):
    loading.load_builder(**kwargs)


def test_unknown_name_lists_the_package_datasets(tmp_path):
  with pytest.raises(ExportError) as error:
    loading.load_builder('no_such_dataset', str(tmp_path))
  message = str(error.value)
  assert 'no_such_dataset' in message and '\n' not in message
  assert 'voc_export' in message and 'labelbox_cars' in message
  assert '--dataset_dir' in message


def test_unbuilt_dataset_says_how_to_build_it(tmp_path):
  with pytest.raises(ExportError, match=(
      'voc_export/boxes is not built in .* Fix: Build it first: `tfds build'
      ' voc_export --imports tfds_builders --manual_dir EXPORT_DIR'
      f' --data_dir {tmp_path}`')):
    loading.load_builder('voc_export/boxes', str(tmp_path))


def test_folder_without_or_with_several_builds(tmp_path, built_dir):
  with pytest.raises(ExportError, match='no built dataset'):
    loading.load_builder(dataset_dir=str(tmp_path))
  with pytest.raises(ExportError, match='no built dataset'):
    loading.load_builder(dataset_dir=str(tmp_path / 'absent'))
  for name in ('a', 'b'):
    (tmp_path / name).mkdir()
    (tmp_path / name / 'dataset_info.json').write_text(
        (built_dir / 'dataset_info.json').read_text())
  with pytest.raises(ExportError, match='2 built datasets here.*Pass one of'):
    loading.load_builder(dataset_dir=str(tmp_path))
