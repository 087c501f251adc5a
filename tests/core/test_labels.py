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
