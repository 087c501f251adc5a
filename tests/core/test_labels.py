"""tfds_builders.core.labels: class lists checked against the data."""

import pytest

from tfds_builders.core import labels
from tfds_builders.core.errors import ExportError


def test_class_list_from_data_is_sorted():
  classes = labels.resolve_classes(None, {'zebra': 'a', 'ant': 'b'})
  assert classes.names == ('ant', 'zebra')


def test_class_outside_given_list_is_an_error_naming_where():
  given = labels.ClassList(('cat',), 'labels.txt')
  with pytest.raises(ExportError, match=r"'dog' \(first in b.xml: object #2"):
    labels.resolve_classes(given, {'cat': 'a.xml', 'dog': 'b.xml: object #2'})


def test_blank_names_make_no_class():
  found = labels.first_seen([('', 'a.xml: object #1'), ('  ', 'b'),
                             ('cat', 'c')])
  assert found == {'cat': 'c'}
  assert labels.resolve_classes(None, found).names == ('cat',)


def test_background_in_the_data_is_not_a_class():
  given = labels.ClassList(('cat',), 'labelmap.txt')
  assert labels.resolve_classes(given, {'background': 'a', 'cat': 'b'}) is (
      given)


@pytest.mark.parametrize('names, problem', [
    (['traffic\nlight', 'bus'], r"class name 'traffic\\nlight' holds a line"
     r' break .* \(first in a.json\)'),
    (['bus\r', 'car'], r"class name 'bus\\r' holds a line break"),
    (['cat', 'cat '], r"class names 'cat' and 'cat ' differ only in the"
     ' spaces around them'),
])
def test_names_the_dataset_cannot_store_are_an_error(names, problem):
  """TFDS writes names one per line and strips them when reading: a newline
  would shift every later label, 'cat ' and 'cat' would load as one."""
  with pytest.raises(ExportError, match=problem):
    labels.resolve_classes(None, {n: 'a.json' for n in names})
  with pytest.raises(ExportError, match=problem):
    labels.resolve_classes(labels.ClassList(tuple(names), 'a.json'),
                           {names[0]: 'a.json'})


def test_one_name_with_spaces_around_it_is_kept():
  assert labels.resolve_classes(None, {' car': 'a'}).names == (' car',)
